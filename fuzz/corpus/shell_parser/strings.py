s = '''multi
line''' + "dq\t" + u'x' 'adjacent' + '\x41\0\\'
