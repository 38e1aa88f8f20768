"""The reader network: a BERT encoder with a span head (start/end logits per token).

Position 0 ([CLS]) stands for "no answer in this passage" (the SQuAD 2.0 convention of
Devlin et al., 2019): a passage's answerability is the best span's score minus the score
of the [CLS] "span". Kept free of any loading policy so training and inference share it.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import BertConfig, BertModel


class SpanReader(nn.Module):
    """Encoder plus a linear layer giving a start and an end logit for every token."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa = nn.Linear(config.hidden_size, 2)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        logits = self.qa(hidden)
        start, end = logits[..., 0], logits[..., 1]
        pad = attention_mask == 0
        return start.masked_fill(pad, -1e4), end.masked_fill(pad, -1e4)
