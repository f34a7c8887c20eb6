print(2 ** 100)
