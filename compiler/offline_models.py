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

Model arguments (``-M key=value``) are accepted and ignored, so a compiled eval script that
passes ``-M model_path=<checkpoint>`` runs unchanged: these models never load weights. Real
checkpoints (a merged torchtune ``epoch_N/`` folder in HF layout) are evaluated with
inspect-ai's own ``hf/<name> -M model_path=…`` provider.

Every output sets ``usage``: without it inspect-ai counts tokens with tiktoken's
``o200k_base``, which downloads a BPE file (toolchain.md §2.1). Importing this module imports
only ``inspect_ai.model``.
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

MODELS = ("echo", "upper", "error")


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
    raise ValueError(f"unknown offline model planc/{model_name}; use one of "
                     + ", ".join(f"planc/{m}" for m in MODELS))


class PlancOfflineAPI(ModelAPI):
    """A :class:`ModelAPI` answering with :func:`respond`; ``model_args`` are kept, unused."""

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any) -> None:  # noqa: B008
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key,
                         api_key_vars=[], config=config)
        if model_name not in MODELS:
            respond(model_name, "")  # raises the ValueError naming the known models
        self.model_args = dict(model_args)

    async def generate(self, input: list[ChatMessage], tools: list[Any], tool_choice: Any,
                       config: GenerateConfig) -> ModelOutput:
        prompt = input[-1].text if input else ""
        content = respond(self.model_name, prompt)
        output = ModelOutput.from_content(model=self.model_name, content=content)
        n_in = len(prompt.split())
        n_out = len(content.split())
        output.usage = ModelUsage(input_tokens=n_in, output_tokens=n_out,
                                  total_tokens=n_in + n_out)
        return output

    def max_connections(self) -> int:
        return 32


@modelapi(name="planc")
def planc() -> type[ModelAPI]:
    """The ``planc`` provider (``--model planc/echo|upper|error``)."""
    return PlancOfflineAPI
