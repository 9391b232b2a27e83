# liquid_add_model(NAME <name> MODEL <checkpoint>
#                  [TARGET <liquidc target>] [EMIT lib|exe] [OPTIONS <liquidc flags>...])
#
# Compiles a checkpoint with liquidc at build time: an ncps spec (.json, its
# .safetensors beside it), a Hugging Face folder or a GGUF file. It runs again
# when the checkpoint's files or liquidc change.
#
#   EMIT lib (default): an imported static library <name> (link it; it brings
#     its include folder, which holds <name>.h, and its own link dependencies:
#     threads, libm, libdl).
#   EMIT exe: a target <name> that builds the program; its path is in
#     <name>_EXECUTABLE (it may be for another machine: see TARGET).
#   TARGET: a liquidc target (default host; see `liquidc --list-targets`).
#
# Sets <name>_WEIGHTS in the caller's scope: the .lqw file the artifact maps
# at run time when the weights are not compiled in (language models, unless
# OPTIONS has --embed-weights), and <name>_DIR: the folder of the outputs.
function(liquid_add_model)
  cmake_parse_arguments(ARG "" "NAME;MODEL;TARGET;EMIT" "OPTIONS" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_MODEL)
    message(FATAL_ERROR "liquid_add_model: NAME and MODEL are required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "liquid_add_model(${ARG_NAME}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "liquid_add_model: NAME '${ARG_NAME}' must be a C identifier")
  endif()
  if(NOT ARG_EMIT)
    set(ARG_EMIT lib)
  endif()
  if(NOT ARG_EMIT MATCHES "^(lib|exe)$")
    message(FATAL_ERROR "liquid_add_model(${ARG_NAME}): EMIT must be lib or exe, not '${ARG_EMIT}'")
  endif()
  if(NOT ARG_TARGET)
    set(ARG_TARGET host)
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "liquid_add_model(${ARG_NAME}): ${model} does not exist")
  endif()
  # What the compile reads: the folder's files, or the file (and a spec's
  # .safetensors beside it).
  if(IS_DIRECTORY "${model}")
    file(GLOB deps CONFIGURE_DEPENDS "${model}/*.json" "${model}/*.safetensors"
         "${model}/*.jinja")
  else()
    set(deps "${model}")
    get_filename_component(stem "${model}" NAME_WLE)
    get_filename_component(folder "${model}" DIRECTORY)
    if(EXISTS "${folder}/${stem}.safetensors")
      list(APPEND deps "${folder}/${stem}.safetensors")
    endif()
  endif()
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/liquid/${ARG_NAME}")
  file(MAKE_DIRECTORY "${dir}")
  if(ARG_EMIT STREQUAL "lib")
    set(out "${dir}/lib${ARG_NAME}.a")
    set(outputs "${out}" "${dir}/${ARG_NAME}.h")
  else()
    set(out "${dir}/${ARG_NAME}")
    set(outputs "${out}")
  endif()
  add_custom_command(OUTPUT ${outputs}
    COMMAND liquidc::liquidc "${model}" -o "${out}" --emit=${ARG_EMIT} --target=${ARG_TARGET}
            --name ${ARG_NAME} ${ARG_OPTIONS}
    DEPENDS ${deps} "$<TARGET_FILE:liquidc::liquidc>"
    COMMENT "liquidc: ${ARG_MODEL} -> ${ARG_NAME} (${ARG_EMIT}, ${ARG_TARGET})"
    VERBATIM)
  set(${ARG_NAME}_WEIGHTS "${out}.lqw" PARENT_SCOPE)
  set(${ARG_NAME}_DIR "${dir}" PARENT_SCOPE)
  if(ARG_EMIT STREQUAL "exe")
    add_custom_target(${ARG_NAME} ALL DEPENDS ${outputs})
    set(${ARG_NAME}_EXECUTABLE "${out}" PARENT_SCOPE)
  else()
    add_custom_target(${ARG_NAME}_liquidc ALL DEPENDS ${outputs})
    find_package(Threads REQUIRED)
    add_library(${ARG_NAME} STATIC IMPORTED GLOBAL)
    set_target_properties(${ARG_NAME} PROPERTIES
      IMPORTED_LOCATION "${out}"
      INTERFACE_INCLUDE_DIRECTORIES "${dir}"
      INTERFACE_LINK_LIBRARIES "Threads::Threads;m;${CMAKE_DL_LIBS}")
    add_dependencies(${ARG_NAME} ${ARG_NAME}_liquidc)
  endif()
endfunction()
