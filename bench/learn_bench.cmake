# Pixel classification benchmark driver (scripts/bench_learn.sh): tessera's features + forest vs
# scikit-image multiscale_basic_features + scikit-learn RandomForestClassifier (bench/learn_sklearn.py).
add_executable(tessera_bench_learn ${CMAKE_CURRENT_LIST_DIR}/learn_bench.cpp)
target_link_libraries(tessera_bench_learn PRIVATE tessera::learn tessera::synth fmt::fmt)
