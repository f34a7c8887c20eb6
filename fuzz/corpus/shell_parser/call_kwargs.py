f(1, *x) if y else z
f(a, b=1, b=2)
f(b=1, a)
