//! End-to-end test support for skilld: real binaries in a temp home, a real
//! OCI registry on a loopback port, polling with deadlines, cleanup on drop.
//!
//! The test files in `tests/` use [`helper`]; nothing here mocks a part of
//! the product. A tool the tests need but the machine lacks makes the test
//! fail with the package to install; it never passes silently.

pub mod helper;
