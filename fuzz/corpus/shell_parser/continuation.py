x = 1 + \
  2  # a comment
; y = (1,
 2)
