"""The benchmark episode: 10 minutes at 100 Hz, 30 columns in all (1.8M samples), written by numpy.

sensors.npz (numpy.savez, stored): joints/position (N, 12) f4, joints/velocity (N, 12) f4, joints/_t_ns;
actions.npz (numpy.savez_compressed, deflated): cmd/value (N, 6) f4, cmd/_t_ns.
Usage: python make_episode.py OUT_DIR [MINUTES]
"""

import os
import sys

import numpy as np

out = sys.argv[1]
minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
os.makedirs(out, exist_ok=True)
n = int(minutes * 60 * 100)
t = np.arange(n, dtype=np.int64) * 10_000_000
rng = np.random.default_rng(7)
phase = np.arange(n)[:, None] / 100.0
pos = (np.sin(phase * np.linspace(0.2, 2.0, 12)) + rng.normal(0, 0.01, (n, 12))).astype(np.float32)
vel = np.gradient(pos, axis=0).astype(np.float32) * 100
cmd = (np.cos(phase * np.linspace(0.1, 1.0, 6))).astype(np.float32)
np.savez(
    os.path.join(out, "sensors.npz"), **{"joints/position": pos, "joints/velocity": vel, "joints/_t_ns": t}
)
np.savez_compressed(os.path.join(out, "actions.npz"), **{"cmd/value": cmd, "cmd/_t_ns": t})
