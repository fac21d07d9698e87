# Propagation benchmark driver (scripts/bench_propagate.sh): mask propagation on a synthetic 512x512
# time-lapse against plain OpenCV Farneback + remap, frames per second and mean IoU.
add_executable(tessera_bench_propagate bench_propagate.cpp)
target_link_libraries(tessera_bench_propagate PRIVATE tessera::segment tessera::synth fmt::fmt)
