print(int(12.7), float(3), str(1), repr('x\n\x41'), bool(0), type(None), len('abc'), int('12'))
