import { randomBytes } from 'node:crypto';
import type { LogEpisodeOptions } from '../client.js';
import { DEMO_JOINTS, type DemoArm } from './tracks.js';
import { DEMO_CLIPS, type DemoClipName } from './video.js';

/**
 * One sample episode: SDK options without the file paths, the fixture clip it shows, and (for rollouts) the arm
 * whose sensor and action tracks it logs, sampled from the same motion as the clip.
 */
export interface DemoEpisode {
  options: Omit<LogEpisodeOptions, 'video' | 'sensors' | 'actions'>;
  clip: DemoClipName;
  arm?: DemoArm;
}

/** The failure moment is the clip's: the cube slips, or the e-stop freezes the arm, right then. */
const failureAt = (clip: 'slip' | 'estop') => DEMO_CLIPS[clip].mishap.atS;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

const jointState = (positions: number[]) => ({
  __type: 'robotrace.JointState',
  names: [...DEMO_JOINTS.ur5e],
  positions,
});

/**
 * A small eval sweep as a team would log it: one OTel trace for the sweep (its root span logs a summary
 * episode, each child span a rollout, one of which fails), plus real-robot runs outside that trace. The trace
 * context is generated, since the demo runs without a tracer; it is sent as an explicit `metadata.otel`.
 */
export function demoEpisodes(now = new Date()): { traceId: string; episodes: DemoEpisode[] } {
  const traceId = hex(16);
  const rootSpan = hex(8);
  const policyVersion = 'pick-cube-v1.4.2';
  const common = { policyVersion, envVersion: 'mujoco-3.2.1', gitSha: hex(20).slice(0, 12), fps: 15 };
  const otel = (spanId: string) => ({ traceparent: `00-${traceId}-${spanId}-01` });
  const day = now.toISOString().slice(0, 10);

  const rollouts: DemoEpisode[] = [1, 2, 3, 4].map((seed) => {
    const failed = seed === 3;
    return {
      options: {
        ...common,
        name: `pick-cube eval seed=${seed}`,
        source: 'sim',
        robot: 'ur5e-sim',
        seed,
        durationS: 3,
        ...(failed
          ? {
              status: 'failed',
              failureReason: 'cube slipped from the gripper during transport',
              failureTimeS: failureAt('slip'),
            }
          : {}),
        metadata: {
          demo: true,
          task: 'pick-cube',
          suite: `nightly-eval-${day}`,
          success: !failed,
          reward: failed ? 0.35 : 0.9 + seed / 100,
          final_joint_state: jointState([0.1 * seed, -1.2, 1.4, -1.77, -1.57, 0.05 * seed]),
          otel: otel(hex(8)),
        },
      },
      clip: failed ? 'slip' : 'place',
      arm: 'ur5e',
    };
  });

  const summary: DemoEpisode = {
    options: {
      ...common,
      name: `pick-cube nightly eval ${day} (suite)`,
      source: 'sim',
      robot: 'ur5e-sim',
      durationS: 12,
      metadata: {
        demo: true,
        task: 'pick-cube',
        suite: `nightly-eval-${day}`,
        rollouts: 4,
        success_rate: 0.75,
        otel: otel(rootSpan),
      },
    },
    clip: 'place',
  };

  const real: DemoEpisode[] = [
    {
      options: {
        name: 'pick-cube on ur5e-lab-2',
        source: 'real',
        robot: 'ur5e-lab-2',
        policyVersion,
        gitSha: common.gitSha,
        fps: 15,
        durationS: 3,
        metadata: { demo: true, task: 'pick-cube', operator: 'sam', site: 'lab-2', success: true },
      },
      clip: 'place',
      arm: 'ur5e',
    },
    {
      options: {
        name: 'pick-cube on franka-01',
        source: 'real',
        robot: 'franka-01',
        policyVersion,
        fps: 15,
        durationS: 3,
        status: 'failed',
        failureReason: 'emergency stop pressed by the operator',
        failureTimeS: failureAt('estop'),
        metadata: { demo: true, task: 'pick-cube', operator: 'ana', site: 'lab-1', success: false },
      },
      clip: 'estop',
      arm: 'franka',
    },
    {
      options: {
        name: 'replay of pick-cube eval seed=3',
        source: 'replay',
        robot: 'ur5e-sim',
        ...common,
        seed: 3,
        durationS: 3,
        metadata: { demo: true, task: 'pick-cube', replay_of: 'pick-cube eval seed=3' },
      },
      clip: 'slip',
      arm: 'ur5e',
    },
  ];

  return { traceId, episodes: [summary, ...rollouts, ...real] };
}
