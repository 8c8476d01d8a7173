# Writes a C++ file that defines `const char* const NAME` holding the text of IN, as one raw
# string literal: cmake -DIN=page.html -DOUT=page.cc -DNAME=nums::kPage -P EmbedText.cmake.
# The delimiter must not occur in IN; the build fails when it does.
file(READ "${IN}" text)
set(delim "nums_embed")
string(FIND "${text}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )${delim}\"")
endif()
string(REGEX MATCH "^(.*)::([^:]+)$" _ "${NAME}")
set(ns "${CMAKE_MATCH_1}")
set(id "${CMAKE_MATCH_2}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/EmbedText.cmake; do not edit.\n"
  "namespace ${ns} {\nextern const char* const ${id};\n"
  "const char* const ${id} = R\"${delim}(${text})${delim}\";\n}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
