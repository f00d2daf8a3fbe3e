"""Gymnasium: describe an env, run one rollout with a policy into video + NPZ files, or upload it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .._client import Client
from .._episode import Episode
from .._payload import EpisodeFinalStatus, EpisodeSource
from .artifacts import EncodedArtifact, artifact, prepare_dir, steady_times_ns, write_npz
from .deps import numpy, require
from .errors import AdapterError
from .gym_spaces import flatten, stack
from .upload import RunFacts, upload_encoded, work_dir
from .video import FrameError, Mp4Writer

# A policy maps (observation, info) to an action.
Policy = Callable[[Any, dict[str, Any]], Any]

_DEFAULT_FPS = 30.0
_DEFAULT_MAX_STEPS = 10_000


def _gym() -> Any:
    return require("gymnasium", extra="gymnasium", purpose="The Gymnasium adapter")


@dataclass
class EnvSummary:
    """What an env offers the adapter, found without stepping it."""

    env_id: str
    observation_space: str
    action_space: str
    render_modes: tuple[str, ...] = field(default_factory=tuple)
    active_render_mode: Optional[str] = None  # noqa: UP045 - evaluated by get_type_hints on 3.9
    can_record_video: bool = False

    def report(self) -> str:
        """A few lines to read before running a rollout."""
        lines = [
            self.env_id,
            f"  observation_space: {self.observation_space}",
            f"  action_space: {self.action_space}",
        ]
        if self.render_modes:
            lines.append(f"  render_modes: {', '.join(self.render_modes)}")
        if self.active_render_mode is not None:
            lines.append(f"  active_render_mode: {self.active_render_mode}")
        video = (
            "yes (env.render() frames into an MP4; needs the [video] extra)"
            if self.can_record_video
            else "no (create the env with render_mode='rgb_array')"
        )
        lines.append(f"  video: {video}")
        return "\n".join(lines)


@dataclass
class EncodedRollout:
    """What ``encode_rollout`` wrote, and the episode fields it worked out."""

    output_dir: Path
    summary: EnvSummary
    video: Optional[EncodedArtifact] = None  # noqa: UP045
    sensors: Optional[EncodedArtifact] = None  # noqa: UP045
    actions: Optional[EncodedArtifact] = None  # noqa: UP045
    duration_s: Optional[float] = None  # noqa: UP045
    fps: Optional[float] = None  # noqa: UP045
    metadata: dict[str, Any] = field(default_factory=dict)


def scan_env(env: Any) -> EnvSummary:
    """Describe ``env`` (its id, spaces, render modes) without resetting or stepping it."""
    gym = _gym()
    spec = getattr(env, "spec", None)
    render_modes = tuple(str(mode) for mode in (getattr(spec, "render_modes", None) or ()))
    if not render_modes:
        metadata = getattr(env, "metadata", None)
        modes = metadata.get("render_modes") if isinstance(metadata, Mapping) else None
        render_modes = tuple(str(mode) for mode in modes or ())
    active = getattr(env, "render_mode", None)
    return EnvSummary(
        env_id=_env_id(env),
        observation_space=_describe(env.observation_space, gym),
        action_space=_describe(env.action_space, gym),
        render_modes=render_modes,
        active_render_mode=active,
        can_record_video=active == "rgb_array" or "rgb_array" in render_modes,
    )


def encode_rollout(
    env: Any,
    output_dir: str | Path,
    *,
    policy: Policy,
    seed: int | None = None,
    max_steps: int = _DEFAULT_MAX_STEPS,
    record_video: bool | None = None,
    fps: float = _DEFAULT_FPS,
    summary: EnvSummary | None = None,
) -> EncodedRollout:
    """Run one episode of ``env`` with ``policy`` and write ``video.mp4``, ``sensors.npz`` (observations)
    and ``actions.npz`` into ``output_dir``. Nothing is uploaded.

    The step's observation and the action chosen from it share a row; times are relative, ``1/fps`` apart.
    Video is recorded when the env renders ``rgb_array`` frames (``record_video=None``), or forced on / off.
    """
    gym = _gym()
    np = numpy("gymnasium")
    if max_steps < 1:
        raise AdapterError(f"max_steps must be 1 or more; got {max_steps}")
    if not fps > 0:
        raise AdapterError(f"fps must be above 0; got {fps}")
    out = prepare_dir(output_dir)
    summary = summary if summary is not None else scan_env(env)
    label = summary.env_id
    writer = (
        Mp4Writer(out / "video.mp4", fps=fps, extra="gymnasium") if _wants_video(env, record_video) else None
    )

    observations: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    total_reward = 0.0
    terminated = truncated = False
    try:
        obs, info = _call(label, "env.reset()", env.reset, **({} if seed is None else {"seed": seed}))
        while len(actions) < max_steps:
            step = len(actions)
            observations.append(flatten(obs, env.observation_space, "observation", gym, np))
            action = _call(label, f"the policy at step {step}", policy, obs, info)
            actions.append(flatten(action, env.action_space, "action", gym, np))
            if writer is not None:
                _add_frame(label, writer, step, env)
            obs, reward, terminated, truncated, info = _call(
                label, f"env.step() at step {step}", env.step, action
            )
            total_reward += float(reward)
            if terminated or truncated:
                break
    except BaseException as exc:
        if writer is not None:
            writer.discard()
        if isinstance(exc, AdapterError) and not str(exc).startswith(f"{label}: "):
            # A value that does not fit its space: say which env it came from.
            raise AdapterError(f"{label}: {exc}") from exc
        raise

    steps = len(actions)
    times = steady_times_ns(np, steps, fps)
    video = None
    if writer is not None and writer.close() > 0:
        video = artifact("video", writer.path)
    metadata: dict[str, Any] = {
        "adapter": "gymnasium",
        "gymnasium_env_id": summary.env_id,
        "total_reward": total_reward,
        "steps": steps,
        "terminated": bool(terminated),
        "truncated": bool(truncated),
    }
    if summary.active_render_mode is not None:
        metadata["render_mode"] = summary.active_render_mode
    return EncodedRollout(
        output_dir=out,
        summary=summary,
        video=video,
        sensors=write_npz(np, "sensors", out / "sensors.npz", stack(observations, times, np)),
        actions=write_npz(np, "actions", out / "actions.npz", stack(actions, times, np)),
        duration_s=steps / fps,
        fps=fps,
        metadata=metadata,
    )


def upload_rollout(
    env: Any,
    *,
    policy: Policy,
    client: Client | None = None,
    name: str | None = None,
    source: EpisodeSource = "sim",
    robot: str | None = None,
    policy_version: str | None = None,
    env_version: str | None = None,
    git_sha: str | None = None,
    seed: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    status: EpisodeFinalStatus = "ready",
    max_steps: int = 10_000,
    record_video: bool | None = None,
    fps: float = 30.0,
    output_dir: str | Path | None = None,
    keep_artifacts: bool = False,
    summary: EnvSummary | None = None,
) -> Episode:
    """Run one rollout (``encode_rollout``), upload it as an episode and finalize it with ``status``.

    The files go to ``output_dir`` (kept) or a temporary folder (removed unless ``keep_artifacts``). Without
    ``client`` the default client is used. A failed upload leaves the episode ``failed`` with the reason.
    """
    summary = summary if summary is not None else scan_env(env)
    with work_dir(output_dir, keep_artifacts=keep_artifacts, prefix="robotrace-gymnasium-") as work:
        encoded = encode_rollout(
            env,
            work,
            policy=policy,
            seed=seed,
            max_steps=max_steps,
            record_video=record_video,
            fps=fps,
            summary=summary,
        )
        facts = RunFacts(source, robot, policy_version, env_version, git_sha, seed, metadata)
        return upload_encoded(
            client=client,
            name=name or f"{summary.env_id} (gymnasium rollout)",
            facts=facts,
            encoded=encoded,
            files=[encoded.video, encoded.sensors, encoded.actions],
            status=status,
        )


def _call(label: str, what: str, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``run(...)``, with an exception from user or env code reported as one line naming the env and step."""
    try:
        return run(*args, **kwargs)
    except AdapterError:
        raise
    except Exception as exc:
        raise AdapterError(f"{label}: {what} raised {type(exc).__name__}: {exc}") from exc


def _add_frame(label: str, writer: Mp4Writer, step: int, env: Any) -> None:
    frame = _call(label, f"env.render() at step {step}", env.render)
    if frame is None:
        raise AdapterError(
            f"{label}: env.render() returned None; create the env with render_mode='rgb_array' "
            "or pass record_video=False"
        )
    try:
        writer.add(frame)
    except FrameError as exc:
        raise AdapterError(f"{label}: env.render() {exc}") from exc


def _wants_video(env: Any, record_video: bool | None) -> bool:
    active = getattr(env, "render_mode", None)
    if record_video is None:
        return bool(active == "rgb_array")
    if record_video and active != "rgb_array":
        raise AdapterError(
            f"record_video=True needs an env created with render_mode='rgb_array'; this one has {active!r}"
        )
    return record_video


def _env_id(env: Any) -> str:
    spec = getattr(env, "spec", None)
    if spec is not None and getattr(spec, "id", None):
        return str(spec.id)
    return type(getattr(env, "unwrapped", env)).__name__


def _describe(space: Any, gym: Any) -> str:
    name = type(space).__name__
    if isinstance(space, gym.spaces.Dict):
        return f"Dict({', '.join(sorted(space.spaces))})"
    if isinstance(space, gym.spaces.Tuple):
        return f"Tuple({len(space.spaces)} spaces)"
    if isinstance(space, gym.spaces.Discrete):
        return f"Discrete(n={space.n})"
    shape = getattr(space, "shape", None)
    return f"{name}{shape}" if shape is not None else name
