"""Offline inspect-ai model provider ``planc/<name>``: deterministic models that never touch
the network, for tests, CI and dry runs of compiled evaluation scripts.

Registered through the ``inspect_ai`` entry point in ``pyproject.toml``
(``[project.entry-points.inspect_ai] planc = "compiler.offline_models"``); inspect-ai
resolves models before it loads a task file, so a ``@modelapi`` defined in a task file is
not found (``../shared/reference/toolchain.md`` §2.3).

Models (``--model planc/<name>``):

- ``planc/echo``: answers with the text of the last message.
- ``planc/upper``: answers with the last word of the last message, uppercased (a
  "capitalization" model: it solves ``Uppercase this word: hello`` → ``HELLO``).
- ``planc/error``: raises :class:`OfflineModelError` on every call, producing an eval log
  with ``status == "error"`` (for testing failure handling).
- ``planc/torchtune -M model_path=<output_dir>/epoch_N``: greedy decoding with the
  fine-tuned weights of a torchtune checkpoint written by ``FullModelTorchTuneCheckpointer``
  (torchtune's own key layout). The model and tokenizer come from the run's resolved
  ``torchtune_config.yaml`` (``-M config=…``; default: next to ``epoch_N/``); the LoRA model
  is built as configured and the merged weights are loaded into it (LoRA ``B`` matrices start
  at zero, so the adapters add nothing). ``-M max_new_tokens=N`` (default 16),
  ``-M device=cpu``. Meant for small models and smoke tests: no KV cache, one sample at a
  time. Checkpoints in HF layout (``FullModelHFCheckpointer``) are evaluated with inspect-ai's
  ``hf/<name> -M model_path=…`` provider.

``echo``, ``upper`` and ``error`` accept and ignore every model argument, so a compiled eval
script that passes ``-M model_path=<checkpoint>`` runs unchanged; they never load weights.

Every output sets ``usage``: without it inspect-ai counts tokens with tiktoken's
``o200k_base``, which downloads a BPE file (toolchain.md §2.1). Importing this module imports
only ``inspect_ai.model``; torch and torchtune are imported when ``planc/torchtune`` first
generates.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)

MODELS = ("echo", "upper", "error", "torchtune")


class OfflineModelError(RuntimeError):
    """Raised by ``planc/error`` on purpose."""


def respond(model_name: str, prompt: str) -> str:
    """The answer of offline model ``model_name`` to ``prompt`` (pure; raises on ``error``).

    Raises ``ValueError`` for a model name not in :data:`MODELS`.
    """
    if model_name == "echo":
        return prompt
    if model_name == "upper":
        words = prompt.split()
        return words[-1].upper() if words else ""
    if model_name == "error":
        raise OfflineModelError("planc/error: deliberate failure of the offline test model")
    if model_name == "torchtune":
        raise ValueError("planc/torchtune needs its checkpoint; it answers through "
                         "TorchtuneCheckpoint.generate, not respond()")
    raise ValueError(f"unknown offline model planc/{model_name}; use one of "
                     + ", ".join(f"planc/{m}" for m in MODELS))


class PlancOfflineAPI(ModelAPI):
    """A :class:`ModelAPI` answering with :func:`respond` (``model_args`` kept, unused), or
    with a :class:`TorchtuneCheckpoint` for ``planc/torchtune`` (loaded on first use)."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any) -> None:  # noqa: B008
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key,
                         api_key_vars=[], config=config)
        if model_name not in MODELS:
            respond(model_name, "")  # raises the ValueError naming the known models
        self.model_args = dict(model_args)

        self._checkpoint: TorchtuneCheckpoint | None = None

    async def generate(self, input: list[ChatMessage], tools: list[Any], tool_choice: Any,
                       config: GenerateConfig) -> ModelOutput:
        prompt = input[-1].text if input else ""
        if self.model_name == "torchtune":
            import anyio

            if self._checkpoint is None:
                self._checkpoint = TorchtuneCheckpoint(self.model_args)
            content, n_in, n_out = await anyio.to_thread.run_sync(self._checkpoint.complete,
                                                                  prompt)
        else:
            content = respond(self.model_name, prompt)
            n_in, n_out = len(prompt.split()), len(content.split())
        output = ModelOutput.from_content(model=self.model_name, content=content)
        output.usage = ModelUsage(input_tokens=n_in, output_tokens=n_out,
                                  total_tokens=n_in + n_out)
        return output

    def max_connections(self) -> int:
        return 1 if self.model_name == "torchtune" else 32


class TorchtuneCheckpoint:
    """A torchtune checkpoint folder loaded for greedy generation (see the module docstring).

    ``args``: ``model_path`` (the ``epoch_N/`` folder, required), ``config`` (resolved
    ``torchtune_config.yaml``), ``max_new_tokens`` (int), ``device`` (``cpu``). Raises
    ``ValueError`` for missing files or a checkpoint that does not fit the configured model.
    """

    def __init__(self, args: dict[str, Any]) -> None:
        from pathlib import Path

        if not args.get("model_path"):
            raise ValueError("planc/torchtune needs -M model_path=<output_dir>/epoch_N")
        folder = Path(str(args["model_path"]))
        cfg_path = Path(str(args.get("config") or folder.parent / "torchtune_config.yaml"))
        if not cfg_path.is_file():
            raise ValueError(f"planc/torchtune: no resolved config at {cfg_path} "
                             "(pass -M config=<torchtune_config.yaml>)")
        files = sorted(p for p in folder.glob("*") if p.suffix in (".bin", ".pt")
                       and not p.name.startswith("adapter"))
        if not files:
            raise ValueError(f"planc/torchtune: no model checkpoint (*.bin, *.pt) in {folder}")

        import torch
        from omegaconf import OmegaConf
        from torchtune import config as tt_config

        cfg = OmegaConf.load(cfg_path)
        self.device = torch.device(str(args.get("device") or "cpu"))
        self.max_new_tokens = int(args.get("max_new_tokens") or 16)
        self.tokenizer = tt_config.instantiate(cfg.tokenizer)
        model = tt_config.instantiate(cfg.model)
        state: dict[str, Any] = {}
        for f in files:
            state.update(torch.load(f, map_location="cpu", weights_only=True))
        result = model.load_state_dict(state, strict=False)
        missing = [k for k in result.missing_keys if "lora_" not in k]
        if missing or result.unexpected_keys:
            raise ValueError(f"planc/torchtune: {folder} does not fit {cfg.model._component_} "
                             f"(missing {missing[:3]}, unexpected {result.unexpected_keys[:3]}); "
                             "HF-layout checkpoints are evaluated with hf/<name>")
        self.model = model.to(self.device).eval()
        self._torch = torch

    def complete(self, prompt: str) -> tuple[str, int, int]:
        """Greedy continuation of ``prompt``: ``(text, prompt tokens, new tokens)``."""
        torch = self._torch
        ids = self.tokenizer.encode(prompt, add_bos=True, add_eos=False)
        stop = set(getattr(self.tokenizer, "stop_tokens", []) or [])
        tokens = torch.tensor([ids], device=self.device)
        new: list[int] = []
        with torch.inference_mode():
            for _ in range(self.max_new_tokens):
                logits = self.model(tokens)[:, -1]
                nxt = int(torch.argmax(logits, dim=-1))
                if nxt in stop:
                    break
                new.append(nxt)
                tokens = torch.cat([tokens, torch.tensor([[nxt]], device=self.device)], dim=1)
        return self.tokenizer.decode(new), len(ids), len(new)


@modelapi(name="planc")
def planc() -> type[ModelAPI]:
    """The ``planc`` provider (``--model planc/echo|upper|error|torchtune``)."""
    return PlancOfflineAPI
