"""Course topic: a neuron and gradient descent.

The course's first model: fit the line y = m*x + b through the points (1, 3) and (2, 5),
starting from m = -1, b = 5, by gradient descent on the mean squared error. Autograd
computes dMSE/dm and dMSE/db; we take the step by hand.

    python examples/linear_regression.py
"""
import pydl

x = pydl.tensor([1.0, 2.0])
y = pydl.tensor([3.0, 5.0])
m = pydl.tensor(-1.0, requires_grad=True)
b = pydl.tensor(5.0, requires_grad=True)
learning_rate = 0.1

print("step       m        b      MSE")
for step in range(1001):
    prediction = m * x + b                   # forward: one neuron, no activation
    mse = ((prediction - y) ** 2).mean()     # the loss
    m.grad = None                            # gradients accumulate: clear last step's
    b.grad = None
    mse.backward()                           # dMSE/dm and dMSE/db, by the chain rule
    with pydl.no_grad():                     # the update itself is not part of the graph
        m -= learning_rate * m.grad
        b -= learning_rate * b.grad
    if step % 100 == 0:
        print(f"{step:4d} {m.item():8.4f} {b.item():8.4f} {mse.item():8.5f}")

print(f"\nfitted line: y = {m.item():.3f} x + {b.item():.3f}   (exact: y = 2 x + 1)")
