print(1); exit(3)
print(2)
