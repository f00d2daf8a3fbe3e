import { randomBytes } from 'node:crypto';
import type { LogEpisodeOptions } from '../client.js';
import type { DemoVideoOptions } from './video.js';

/** One sample episode: SDK options without the video path, plus how to draw its video. */
export interface DemoEpisode {
  options: Omit<LogEpisodeOptions, 'video'>;
  video: DemoVideoOptions;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

const jointState = (positions: number[]) => ({
  __type: 'robotrace.JointState',
  names: ['shoulder', 'elbow', 'wrist_1', 'wrist_2', 'wrist_3', 'gripper'],
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
              failureTimeS: 1.95,
            }
          : {}),
        metadata: {
          demo: true,
          task: 'pick-cube',
          suite: `nightly-eval-${day}`,
          success: !failed,
          reward: failed ? 0.35 : 0.9 + seed / 100,
          final_joint_state: jointState([0.1 * seed, -1.2, 1.4, -0.2, 1.57, failed ? 0.0 : 0.04]),
          otel: otel(hex(8)),
        },
      },
      video: {
        cube: [
          [220, 60, 50],
          [60, 120, 220],
          [235, 180, 40],
          [150, 80, 200],
        ][seed - 1] as [number, number, number],
        drop: failed,
      },
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
    video: { cube: [220, 60, 50] },
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
      video: { cube: [40, 160, 90] },
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
        failureTimeS: 2.2,
        metadata: { demo: true, task: 'pick-cube', operator: 'ana', site: 'lab-1', success: false },
      },
      video: { cube: [200, 90, 40], drop: true },
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
      video: { cube: [235, 180, 40], drop: true },
    },
  ];

  return { traceId, episodes: [summary, ...rollouts, ...real] };
}
