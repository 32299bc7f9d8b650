# Source: https://github.com/karpathy/nn-zero-to-hero/blob/master/lectures/makemore/makemore_part2_mlp.ipynb
# makemore part 2 (MIT licence): the MLP language model of Bengio et al. 2003, as typed in the lecture:
# the embedding lookup C[X], emb.view(-1, 6) (and the torch.cat/unbind, view and storage() asides of
# the video), a tanh hidden layer, F.cross_entropy, minibatches, the learning-rate search
# (torch.linspace, 10**lre), training with p.grad = None, the train/dev losses and sampling.
# Adapted: 100 names written out instead of names.txt; every torch.randn and the minibatch indices
# drawn by numpy (both libraries see the same numbers; torch.randint is only shown once, by its
# shape); 1000 + 1500 steps instead of 200000; no plots (the search's losses are printed up to
# lr ~ 0.25: past it the steps are chaotic, and one ulp of float rounding decides the loss); and the
# samples drawn by multinomial from a one-hot distribution on the most likely character (so they
# are certain), one per starting letter.
import random

import numpy as np
import torch
import torch.nn.functional as F

words = ["emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn",
         "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett",
         "victoria", "madison", "luna", "grace", "chloe", "penelope", "layla", "riley", "zoey", "nora",
         "lily", "eleanor", "hannah", "lillian", "addison", "aubrey", "ellie", "stella", "natalie", "zoe",
         "leah", "hazel", "violet", "aurora", "savannah", "audrey", "brooklyn", "bella", "claire", "skylar",
         "lucy", "paisley", "everly", "anna", "caroline", "nova", "genesis", "emilia", "kennedy", "samantha",
         "maya", "willow", "kinsley", "naomi", "aaliyah", "elena", "sarah", "ariana", "allison", "gabriella",
         "alice", "madelyn", "cora", "ruby", "eva", "serenity", "autumn", "adeline", "hailey", "gianna",
         "valentina", "isla", "eliana", "quinn", "nevaeh", "ivy", "sadie", "piper", "lydia", "alexa",
         "josephine", "emery", "julia", "delilah", "arianna", "vivian", "kaylee", "sophie", "brielle", "madeline"]
print(words[:8])
print(len(words))

rng = np.random.default_rng(2147483647)


def randn(shape):
    """Stands in for torch.randn(shape, generator=g): numpy's normal numbers, the same for both libraries."""
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float32)


# build the vocabulary of characters and mappings to/from integers
chars = sorted(list(set(''.join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi['.'] = 0
itos = {i: s for s, i in stoi.items()}
print(itos)

# build the dataset
block_size = 3  # context length: how many characters do we take to predict the next one?
X, Y = [], []
for w in words[:5]:
    context = [0] * block_size
    for ch in w + '.':
        ix = stoi[ch]
        X.append(context)
        Y.append(ix)
        if w == 'emma':
            print(''.join(itos[i] for i in context), '--->', itos[ix])
        context = context[1:] + [ix]  # crop and append

X = torch.tensor(X)
Y = torch.tensor(Y)
print(X.shape, X.dtype, Y.shape, Y.dtype)

C = randn((27, 2))
print(C[5])
print(F.one_hot(torch.tensor(5), num_classes=27).float() @ C)
print(C[[5, 6, 7]])
print(C[torch.tensor([5, 6, 7, 7, 7, 7])])
print(C[X].shape)
print(X[13, 2], C[X][13, 2], C[1])

emb = C[X]
print(emb.shape)
print(torch.cat([emb[:, 0, :], emb[:, 1, :], emb[:, 2, :]], 1).shape)
print(len(torch.unbind(emb, 1)), torch.cat(torch.unbind(emb, 1), 1).shape)
a = torch.arange(18)
print(a.shape, a.view(2, 9))
print(a.view(3, 3, 2))
print(a.storage())  # underneath every view: the same one-dimensional sequence of numbers
print((emb.view(32, 6) == torch.cat(torch.unbind(emb, 1), 1)).all())

W1 = randn((6, 100))
b1 = randn(100)
h = torch.tanh(emb.view(-1, 6) @ W1 + b1)
print(h.shape, h[0, :4])

W2 = randn((100, 27))
b2 = randn(27)
logits = h @ W2 + b2
print(logits.shape)
counts = logits.exp()
prob = counts / counts.sum(1, keepdims=True)
print(prob.shape, prob[0].sum())
loss = -prob[torch.arange(32), Y].log().mean()
print(loss)
print(F.cross_entropy(logits, Y))

# why F.cross_entropy: exp() of a large logit overflows; an offset does not change the probabilities
logits = torch.tensor([-100, -3, 0, 100])
counts = logits.exp()
probs = counts / counts.sum()
print(counts, probs)
logits = torch.tensor([-100, -3, 0, 100]) - 100
counts = logits.exp()
probs = counts / counts.sum()
print(probs)

# ------------ now made respectable :) ---------------


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append

    X = torch.tensor(X)
    Y = torch.tensor(Y)
    print(X.shape, Y.shape)
    return X, Y


random.seed(42)
random.shuffle(words)
n1 = int(0.8 * len(words))
n2 = int(0.9 * len(words))

Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:n2])
Xte, Yte = build_dataset(words[n2:])

print(torch.randint(0, Xtr.shape[0], (32,)).shape)   # a minibatch's indices (drawn by numpy below)

C = randn((27, 10))
W1 = randn((30, 200))
b1 = randn(200)
W2 = randn((200, 27))
b2 = randn(27)
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))  # number of parameters in total
for p in parameters:
    p.requires_grad = True

lre = torch.linspace(-3, 0, 1000)
lrs = 10**lre
print(lre[:3], lrs[:3], lrs[-1])

lri = []
lossi = []
stepi = []

# the learning-rate search: one step at each learning rate, from 0.001 to 1
for i in range(1000):

    # minibatch construct
    ix = torch.tensor(rng.integers(0, Xtr.shape[0], (32,)))

    # forward pass
    emb = C[Xtr[ix]]  # (32, 3, 10)
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)  # (32, 200)
    logits = h @ W2 + b2  # (32, 27)
    loss = F.cross_entropy(logits, Ytr[ix])

    # backward pass
    for p in parameters:
        p.grad = None
    loss.backward()

    # update
    lr = lrs[i]
    for p in parameters:
        p.data += -lr * p.grad

    # track stats
    lri.append(lre[i])
    lossi.append(loss.item())

for k in range(0, 800, 100):
    print(f'lre {lri[k].item():+.3f}  lr {10 ** lri[k].item():.4f}  loss {lossi[k]:.4f}')
print(lr, len(lri), len(lossi))

# again from a fresh initialisation, at the learning rate the search suggested
C = randn((27, 10))
W1 = randn((30, 200))
b1 = randn(200)
W2 = randn((200, 27))
b2 = randn(27)
parameters = [C, W1, b1, W2, b2]
for p in parameters:
    p.requires_grad = True

lossi = []
stepi = []

for i in range(1500):

    # minibatch construct
    ix = torch.tensor(rng.integers(0, Xtr.shape[0], (32,)))

    # forward pass
    emb = C[Xtr[ix]]  # (32, 3, 10)
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)  # (32, 200)
    logits = h @ W2 + b2  # (32, 27)
    loss = F.cross_entropy(logits, Ytr[ix])
    # print(loss.item())

    # backward pass
    for p in parameters:
        p.grad = None
    loss.backward()

    # update
    lr = 0.1 if i < 1000 else 0.01
    for p in parameters:
        p.data += -lr * p.grad

    # track stats
    stepi.append(i)
    lossi.append(loss.log10().item())

print(loss.item())
print(torch.tensor(lossi).view(-1, 300).mean(1))

emb = C[Xtr]  # (N, 3, 10)
h = torch.tanh(emb.view(-1, 30) @ W1 + b1)  # (N, 200)
logits = h @ W2 + b2  # (N, 27)
loss = F.cross_entropy(logits, Ytr)
print(loss)

emb = C[Xdev]  # (N, 3, 10)
h = torch.tanh(emb.view(-1, 30) @ W1 + b1)  # (N, 200)
logits = h @ W2 + b2  # (N, 27)
loss = F.cross_entropy(logits, Ydev)
print(loss)

# dimensions 0 and 1 of the embedding matrix C for a few characters (the lecture plots them all)
for i in range(4):
    print(itos[i], round(C[i, 0].item(), 4), round(C[i, 1].item(), 4))
print(C[:, 0].data.shape)

context = [0] * block_size
print(C[torch.tensor([context])].shape)

# sample from the model
g = torch.Generator().manual_seed(2147483647 + 10)

for start in 'aejms':

    out = [stoi[start]]
    context = [0] * (block_size - 1) + [stoi[start]]  # initialize with .. and a first letter
    while True:
        emb = C[torch.tensor([context])]  # (1,block_size,d)
        h = torch.tanh(emb.view(1, -1) @ W1 + b1)
        logits = h @ W2 + b2
        probs = F.softmax(logits, dim=1)
        certain = F.one_hot(probs.argmax(1), num_classes=27).float()
        ix = torch.multinomial(certain, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0 or len(out) > 12:
            break

    print(''.join(itos[i] for i in out))
