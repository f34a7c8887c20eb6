# Writes a C++ source holding every file of SOURCE_DIR ending in .html as a string, for the
# web layer's default templates (web::embedded_templates()). Run by the build:
#   cmake -DSOURCE_DIR=<dir> -DOUTPUT=<file.cc> -P embed_templates.cmake
file(GLOB names RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/*.html")
list(SORT names)
set(entries "")
foreach(name IN LISTS names)
  file(READ "${SOURCE_DIR}/${name}" text)
  string(FIND "${text}" ")cascade_template\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${name} contains the raw-string delimiter )cascade_template\"")
  endif()
  string(APPEND entries "      {\"${name}\", R\"cascade_template(${text})cascade_template\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from src/web/templates by cmake/embed_templates.cmake; do not edit.
#include <map>
#include <string>

namespace cascade::web {

const std::map<std::string, std::string>& embedded_templates() {
  static const std::map<std::string, std::string> templates{
${entries}  };
  return templates;
}

}  // namespace cascade::web
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
