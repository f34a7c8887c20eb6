// The `cascade` tool: everything happens in cascade::cli::run.
#include <iostream>

#include "cascade/cli/cli.h"

int main(int argc, char** argv) { return cascade::cli::run(argc, argv, std::cout, std::cerr); }
