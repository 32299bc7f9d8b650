# Source: https://github.com/karpathy/nn-zero-to-hero/blob/master/lectures/makemore/makemore_part1_bigrams.ipynb
# makemore part 1 (MIT licence): the counting bigram model, then the same model as a one-layer
# neural net trained by gradient descent. Adapted: 32 names written out instead of names.txt, the
# weights drawn by numpy (both libraries see the same numbers), and the samples drawn with
# multinomial from a distribution that puts all its mass on one character, so that they are certain.
import numpy as np
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett",
         "victoria", "madison", "luna", "grace", "chloe", "penelope", "layla", "riley", "zoey", "nora",
         "lily", "eleanor"]
chars = sorted(list(set("".join(words) + "xqjw")))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab = len(stoi)

# the counting model
N = torch.zeros((vocab, vocab), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
P = (N + 1).float()
P /= P.sum(1, keepdims=True)
print(N[0, :8], N.sum(), P[0].sum())

log_likelihood = 0.0
n = 0
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        prob = P[stoi[ch1], stoi[ch2]]
        log_likelihood += torch.log(prob)
        n += 1
print(f"{log_likelihood=}")
print(f"{-log_likelihood / n}")

# the training set of bigrams
xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print("number of examples: ", num)

W = torch.tensor(np.random.default_rng(2147483647).standard_normal((vocab, vocab)), dtype=torch.float32,
                 requires_grad=True)

for k in range(30):
    # forward pass
    xenc = F.one_hot(xs, num_classes=vocab).float()   # input to the network: one-hot encoding
    logits = xenc @ W                                  # predict log-counts
    counts = logits.exp()                              # counts, equivalent to N
    probs = counts / counts.sum(1, keepdims=True)      # probabilities for next character
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W ** 2).mean()
    if k % 10 == 0:
        print(loss.item())

    # backward pass
    W.grad = None  # set to zero the gradient
    loss.backward()

    # update
    W.data += -50 * W.grad

print(xenc.shape, xenc.dtype, probs.shape, probs[0].sum().item())

# sampling: the most likely next character each time, drawn by multinomial from a one-hot distribution
g = torch.Generator().manual_seed(2147483647)
for i in range(3):
    out = []
    ix = 0
    while True:
        xenc = F.one_hot(torch.tensor([ix]), num_classes=vocab).float()
        p = (xenc @ W).exp()
        p = p / p.sum(1, keepdims=True)
        certain = F.one_hot(p.argmax(1), num_classes=vocab).float()
        ix = torch.multinomial(certain, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0 or len(out) > 12:
            break
    print("".join(out))
