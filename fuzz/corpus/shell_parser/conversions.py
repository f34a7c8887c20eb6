print(int('12'), float('1.5'), str(1), repr('x\n\x41'), bool(0), type(None), len('abc'))
