not a is not b and c not in d or e == f != g <= h >= i
