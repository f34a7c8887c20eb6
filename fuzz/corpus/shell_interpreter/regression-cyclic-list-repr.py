a = [1]
a[0] = a
print(a)
