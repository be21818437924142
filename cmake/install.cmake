# `cmake --install BUILD --prefix P` installs the codec and the container decoder
# (static libraries, headers) and a CMake package: find_package(vbq CONFIG) gives
# vbq::codec and vbq::decoder. tests/consumer is a project that uses it.
include(CMakePackageConfigHelpers)
install(TARGETS vbq_lib vbq_decoder EXPORT vbq-targets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY lib/vbq DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES formats/container.hpp formats/atomic_file.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/formats)
set(vbq_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/vbq)
install(EXPORT vbq-targets NAMESPACE vbq:: DESTINATION ${vbq_cmake_dir})
configure_package_config_file(cmake/vbq-config.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/vbq-config.cmake
                              INSTALL_DESTINATION ${vbq_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/vbq-config-version.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/vbq-config.cmake ${CMAKE_CURRENT_BINARY_DIR}/vbq-config-version.cmake
        DESTINATION ${vbq_cmake_dir})
