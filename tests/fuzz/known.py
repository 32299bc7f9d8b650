"""The programs issue 11 names, kept as fixed cases next to the random ones (``gk`` is the library)."""


ISSUE_11 = {
    "saved-tensors-mul": """
w = gk.tensor([1., 2.], requires_grad=True)
y = (3 * w).sum()
with gk.no_grad():
    w.mul_(2)
y.backward()
""",
    "micrograd-more-ops-inplace": """
a = gk.tensor([-4.0], dtype=gk.float64, requires_grad=True)
b = gk.tensor([2.0], dtype=gk.float64, requires_grad=True)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
g.backward()
""",
    "second-backward-index-tensor": """
x = gk.tensor([1., 2., 3.], requires_grad=True)
y = x[gk.tensor([0, 0])].sum()
y.backward()
y.backward()
""",
    "second-backward-mask": """
x = gk.tensor([1., -2., 3.], requires_grad=True)
y = x[x > 0].sum()
y.backward()
y.backward()
""",
    "second-backward-max-dim": """
x = gk.tensor([[1., 5.], [3., 2.]], requires_grad=True)
y = x.max(1).values.sum()
y.backward()
y.backward()
""",
    "second-backward-where": """
x = gk.tensor([1., -2.], requires_grad=True)
y = gk.where(x > 0, x, gk.zeros(2)).sum()
y.backward()
y.backward()
""",
    "to-device-keeps-dtype": """
x = gk.tensor([1., 2.], requires_grad=True)
a = x.to(device='cpu')
b = x.to(None)
""",
    "matmul-mixed-dtypes": """
x = gk.tensor([[1., 2.]])
y = gk.tensor([[1.], [2.]], dtype=gk.float64)
z = x @ y
""",
    "grad-dtype-float32": """
x = gk.tensor([1., 2.], requires_grad=True)
s = gk.tensor(2.0, dtype=gk.float64)
g, = gk.autograd.grad((x * s).sum(), x)
(x * s).sum().backward(inputs=[x])
""",
    "grad-of-grad-relu": """
x = gk.tensor([-1., 2.], requires_grad=True)
g, = gk.autograd.grad(gk.autograd.grad(x.relu().sum(), x, create_graph=True)[0].sum(), x)
""",
    "grad-of-grad-abs-clamp": """
x = gk.tensor([-1., 2.], requires_grad=True)
a, = gk.autograd.grad(gk.autograd.grad(x.abs().sum(), x, create_graph=True)[0].sum(), x, allow_unused=True)
c, = gk.autograd.grad(gk.autograd.grad(x.clamp(0, 1).sum(), x, create_graph=True)[0].sum(), x, allow_unused=True)
""",
    "backward-inputs-non-leaf-retains-grad": """
x = gk.tensor([1., 2.], requires_grad=True)
h = x * 2
(h * h).sum().backward(inputs=[h])
""",
    "grad-fn-names": """
x = gk.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)
col = x[:, 1]
sgn = x.sign()
batch = (x * 1).reshape(1, 2, 3) @ gk.tensor([[1.], [2.], [3.]])
tr = x.t()
v = gk.tensor([1., 2.], requires_grad=True)
flat = v.flatten()
y = x * 1
y[0] = 7
""",
    "nan-inf-edges": """
x = gk.tensor([0., 2.], requires_grad=True)
p = gk.tensor([-1., 0.5], requires_grad=True)
z = gk.tensor(0., requires_grad=True)
(x ** p).sum().backward()
(z ** z).backward()
r = gk.tensor([-1., 0., 1.], requires_grad=True)
r.relu().backward(gk.tensor([float('inf'), float('inf'), 1.]))
m = gk.minimum(gk.tensor([float('nan'), 1.]), gk.tensor([0., 2.]))
s = gk.tensor([float('nan'), -0., 2.]).sign()
""",
    "view-of-transposed": """
x = gk.tensor([[1., 2.], [3., 4.]], requires_grad=True)
y = x.t().view(-1)
""",
    "hooks-outside-grad-inputs": """
x = gk.tensor([1., 2.], requires_grad=True)
a = x * 2
a.register_hook(lambda g: calls.append('a'))
b = a * 3
g, = gk.autograd.grad(b.sum(), b)
""",
}


def statements(text):
    """Split a program into statements: a line and the indented lines under it."""
    result = []
    for line in text.strip().splitlines():
        if line.startswith(" ") and result:
            result[-1] += "\n" + line
        else:
            result.append(line)
    return result
