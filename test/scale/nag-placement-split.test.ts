/**
 * Acknowledgements of a split API sit on the resources they concern, inside the route stacks
 * too (test/nag-placement.test.ts's walk, on the scale fixture with every route group nested).
 */
import { misplacedAcknowledgements, synthWithAcknowledgementsWithheld } from '../support/nag';
import { App } from 'aws-cdk-lib';
import { scaleStack } from '../../bench/scale/scale-fixture';

test('every acknowledgement of a split API sits on its resource, in the parent and in the route stacks', () => {
  let root: App | undefined;
  const { acknowledgements, violations } = synthWithAcknowledgementsWithheld((app) => {
    root = app;
    // 16 routes over two first path segments, all four auth kinds, data- and edge-cached GETs.
    scaleStack(app, 'SplitPlacement', { routes: 16, pathsPerSegment: 2, apiProps: { routeStacks: { threshold: 1 } } });
  });
  expect(misplacedAcknowledgements(root!, acknowledgements, violations)).toEqual([]);
  // The walk saw the acknowledgements of route functions and methods inside the route stacks.
  expect(acknowledgements.filter((a) => a.construct.node.path.includes('/RoutesArea1/')).length).toBeGreaterThan(8);
});
