"""A tiny causal language model built from config, for fast offline tests.

:func:`make_tiny_lm` writes a complete transformers folder (``config.json``, weights,
``tokenizer.json`` with a chat template) that ``AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained`` load like any hub model. The tokenizer is a byte-level
BPE (``tokenizers`` library) trained on a few Portuguese and English sentences, so it encodes
any text, accents included. The weights are random (fixed seed): the model's replies are
gibberish, but deterministic under greedy decoding.

Tests use the session-scoped fixture::

    from tiny_lm import tiny_lm_dir  # noqa: F401

    def test_x(tiny_lm_dir):  # a str path to the folder
        ...
"""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = [
    "O Oráculo responde perguntas sobre documentos em português.",
    "A instalação do servidor é feita pelo administrador da escola.",
    "Para configurar a rede, abra o painel de controle e escolha a opção de conexão.",
    "As senhas dos usuários são guardadas com segurança no diretório LDAP.",
    "Ação, informação, configuração, não, é, está, você, três, já, até, órgão, pôr, àquele, ü.",
    "The Oracle answers questions about documents in Portuguese and English.",
    "Install the package, then run the server and open the browser.",
    '{"pairs": [{"question": "Qual é o nome?", "answer": "Oráculo."}]}',
    "0123456789 ()[]{}<>:;,.!?'\"-_/\\|@#$%&*+=~^`",
]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def make_tokenizer(vocab_size: int = 400):
    """A ``PreTrainedTokenizerFast`` (byte-level BPE, ``vocab_size`` tokens at most) with a chat template.

    eos = ``<|im_end|>`` (ends an assistant turn), pad = ``<|endoftext|>``.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        chat_template=CHAT_TEMPLATE,
    )


def make_tiny_lm(path: str | Path, seed: int = 0, hidden_size: int = 32, num_layers: int = 2) -> str:
    """Build and save a tiny Qwen2 causal LM with its tokenizer to ``path``; returns ``str(path)``.

    Shapes: hidden 32, 2 layers, 4 heads (2 key/value heads), intermediate 64, vocab = the
    tokenizer's (~400). About 30k parameters, saves in milliseconds, fp32.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = make_tokenizer()
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        initializer_range=0.5,  # large random weights: varied (gibberish) tokens, not one repeated token
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory) -> str:
    """Path (str) of a tiny causal LM folder, built once per test session."""
    return make_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))
