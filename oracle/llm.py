"""CONTRACT STUB (to be replaced by the llm helper).

Messages are OpenAI-style: [{"role": "system"|"user"|"assistant", "content": str}].
"""
from __future__ import annotations
from typing import Iterator, Protocol


class Generator(Protocol):
    name: str          # shown in data files and UI, e.g. "local:qwen2.5-coder-0.5b-instruct" or "openai:gpt-4o-mini"
    adapter: str | None

    def stream(self, messages: list[dict], max_new_tokens: int = 256, temperature: float = 0.0) -> Iterator[str]:
        """Yield text pieces as they are generated. Raises GenerationError."""
        ...

    def generate(self, messages: list[dict], max_new_tokens: int = 256, temperature: float = 0.0) -> str:
        ...


def register_generator(prefix: str, factory) -> None:
    """factory(model: str, adapter: str|None, **kw) -> Generator, used by get_generator for 'prefix:model'."""
    raise NotImplementedError


def get_generator(spec: str, adapter: str | None = None, **kw) -> "Generator":
    """'local:<name or path>' (TransformersGenerator), 'openai:<model>' (OpenAIGenerator, base_url/api_key
    in kw or OPENAI_BASE_URL/OPENAI_API_KEY), or any registered prefix. A bare name means 'local:'."""
    raise NotImplementedError


class FakeGenerator:
    """Canned replies for tests: FakeGenerator(replies=[...]) or FakeGenerator(fn=lambda messages: str)."""
