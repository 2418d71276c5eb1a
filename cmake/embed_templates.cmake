# Writes the Slurm batch templates of jobs/ into a header as raw string literals, so the
# `grokscope` binary carries the exact scripts that are reviewed in jobs/ (no install path needed).
#   cmake -DIN_DIR=<jobs> -DOUT=<header> -P embed_templates.cmake
set(text "// Generated from jobs/*.sbatch by cmake/embed_templates.cmake; do not edit.\n#pragma once\n")
string(APPEND text "namespace grokscope::launch::templates {\n")
foreach(name array grid collect)
  file(READ "${IN_DIR}/${name}.sbatch" body)
  string(APPEND text "inline constexpr const char* ${name} = R\"gs_sbatch(${body})gs_sbatch\";\n")
endforeach()
string(APPEND text "}  // namespace grokscope::launch::templates\n")
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
