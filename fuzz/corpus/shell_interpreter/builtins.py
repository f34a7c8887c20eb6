x = [1, 2.5, 'a', None, True, (3,), {'k': 'v'}]
print(x[1:], len(x), x[-1]['k'], sum([1, 2]), min(3, 1), max([4, 5]), sorted([3, 1]), tuple('ab'))
