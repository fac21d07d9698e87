# npz export benchmark driver (scripts/bench_export.sh): DeepCell X/y written through exchange::NpzWriter.
add_executable(tessera_bench_export ${CMAKE_CURRENT_LIST_DIR}/bench_export.cpp)
target_link_libraries(tessera_bench_export PRIVATE tessera::exchange fmt::fmt)
