//! macOS: the socket launchd created from the LaunchAgent's `Sockets`
//! entry (named `Listeners`), taken with `launch_activate_socket(3)`.
//!
//! The only unsafe code of the daemon: one FFI call and freeing the array
//! launchd allocated. Compiled on macOS only (not exercised by the Linux CI).
#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixListener;

unsafe extern "C" {
    fn launch_activate_socket(
        name: *const libc::c_char,
        fds: *mut *mut libc::c_int,
        cnt: *mut libc::size_t,
    ) -> libc::c_int;
}

/// The listening socket launchd holds for us under `name`, if any.
pub fn activated_socket(name: &str) -> Option<UnixListener> {
    let name = CString::new(name).ok()?;
    let mut fds: *mut libc::c_int = std::ptr::null_mut();
    let mut count: libc::size_t = 0;
    // SAFETY: launchd fills `fds` with a malloc'ed array of `count` fds on
    // success; we read it within bounds and free it once.
    let result = unsafe { launch_activate_socket(name.as_ptr(), &mut fds, &mut count) };
    if result != 0 || fds.is_null() || count == 0 {
        return None;
    }
    // SAFETY: `count >= 1` and `fds` is valid for `count` elements.
    let fd = unsafe { *fds };
    // Further fds (launchd may give one per address) are closed: one suffices.
    for i in 1..count {
        // SAFETY: in bounds; each fd is ours to close.
        unsafe { libc::close(*fds.add(i)) };
    }
    // SAFETY: the array came from malloc in launchd's library.
    unsafe { libc::free(fds.cast()) };
    // SAFETY: `fd` is a listening stream socket launchd passed to us alone.
    Some(unsafe { UnixListener::from_raw_fd(fd) })
}
