for x in [1, 2]: for y in x: print(y)
