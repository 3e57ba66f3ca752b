#!/usr/bin/env python3
# gst-affect — PyTorch CPU reference speed for the word model (same inputs and
# threads as tests/models/bench-words.c). Run by bench-words.sh.
# SPDX-License-Identifier: LGPL-2.1-or-later
import argparse
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()

    import torch
    from transformers import BertModel

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.set_grad_enabled(False)
    model = BertModel.from_pretrained(a.model_dir, add_pooling_layer=False,
                                      attn_implementation="eager").eval()
    vocab = model.config.vocab_size
    # Same pseudo-random ids as bench-words.c.
    s = 7
    ids = []
    for _ in range(a.batch * a.seq_len):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        ids.append(1000 + (s >> 8) % (vocab - 1000))
    ids = torch.tensor(ids, dtype=torch.long).reshape(a.batch, a.seq_len)
    ids[:, 0] = 101
    ids[:, -1] = 102
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model(input_ids=ids, attention_mask=mask)
        runs = 0
        best = float("inf")
        t0 = c0 = time.perf_counter()
        while True:
            model(input_ids=ids, attention_mask=mask)
            runs += 1
            t1 = time.perf_counter()
            best = min(best, t1 - c0)
            c0 = t1
            if t1 - t0 >= a.seconds and runs >= 3:
                break
    # The mean, and the fastest call (as bench-words.c).
    print("words-bench impl=pytorch-%s model=%s threads=%d batch=%d seq=%d "
          "runs=%d ms_per_call=%.2f tokens_per_s=%.0f min_ms=%.2f "
          "tokens_per_s_best=%.0f"
          % (torch.__version__, a.model_dir, a.threads, a.batch, a.seq_len,
             runs, (t1 - t0) * 1e3 / runs,
             runs * a.batch * a.seq_len / (t1 - t0), best * 1e3,
             a.batch * a.seq_len / best))


if __name__ == "__main__":
    main()
