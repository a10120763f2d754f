//! The wire format between the library (in the kernel process) and the session zygote: frames
//! on a Unix stream socket, `u32` little-endian length + payload, with file descriptors
//! (pipes, pidfds) riding on the first bytes of a frame as SCM_RIGHTS.
//!
//! Payloads are a tiny binary encoding rather than JSON because argv and the environment are
//! arbitrary bytes on Linux, not UTF-8.

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, UnixAddr, recvmsg, sendmsg};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Most descriptors one frame may carry.
pub(crate) const MAX_FDS: usize = 8;
/// Largest payload accepted (argv + env beyond this is refused, like the kernel's ARG_MAX).
pub(crate) const MAX_FRAME: u32 = 8 << 20;

/// One received frame.
pub(crate) struct Frame {
    pub payload: Vec<u8>,
    pub fds: Vec<OwnedFd>,
}

fn nix_io(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Sends a frame; the descriptors travel with its first bytes.
pub(crate) fn send(sock: BorrowedFd<'_>, payload: &[u8], fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| *l <= MAX_FRAME)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(payload);
    let raw: Vec<RawFd> = fds.iter().map(|f| f.as_raw_fd()).collect();
    let cmsgs = if raw.is_empty() {
        vec![]
    } else {
        vec![ControlMessage::ScmRights(&raw)]
    };
    let mut sent = loop {
        match sendmsg::<UnixAddr>(
            sock.as_raw_fd(),
            &[IoSlice::new(&frame)],
            &cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(n) => break n,
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(nix_io(e)),
        }
    };
    while sent < frame.len() {
        // SAFETY: valid buffer slice.
        let n = unsafe {
            libc::send(
                sock.as_raw_fd(),
                frame[sent..].as_ptr().cast(),
                frame.len() - sent,
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        sent += n as usize;
    }
    Ok(())
}

/// Receives one frame. `Ok(None)` on a clean end of stream (the peer closed).
pub(crate) fn recv(sock: BorrowedFd<'_>) -> io::Result<Option<Frame>> {
    let mut header = [0u8; 4];
    let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
    let mut fds = Vec::new();
    let got = loop {
        let mut iov = [IoSliceMut::new(&mut header)];
        match recvmsg::<UnixAddr>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_WAITALL,
        ) {
            Ok(msg) => {
                for c in msg.cmsgs().map_err(nix_io)? {
                    if let ControlMessageOwned::ScmRights(raw) = c {
                        for fd in raw {
                            // SAFETY: the kernel installed these descriptors for us.
                            fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                        }
                    }
                }
                break msg.bytes;
            }
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(nix_io(e)),
        }
    };
    if got == 0 {
        return Ok(None);
    }
    let mut have = got;
    while have < 4 {
        have += read_exact_some(sock, &mut header[have..])?;
    }
    let len = u32::from_le_bytes(header);
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut payload = vec![0u8; len as usize];
    let mut have = 0;
    while have < payload.len() {
        have += read_exact_some(sock, &mut payload[have..])?;
    }
    Ok(Some(Frame { payload, fds }))
}

fn read_exact_some(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    let n = crate::sys::read_some(sock.as_raw_fd(), buf)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "peer closed mid-frame",
        ));
    }
    Ok(n)
}

/// Builds a payload.
#[derive(Default)]
pub(crate) struct Writer(pub Vec<u8>);

impl Writer {
    pub(crate) fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    pub(crate) fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    pub(crate) fn bytes(self, b: &[u8]) -> Self {
        let mut s = self.u32(b.len() as u32);
        s.0.extend_from_slice(b);
        s
    }
    pub(crate) fn list<'a>(self, items: impl ExactSizeIterator<Item = &'a [u8]>) -> Self {
        let mut s = self.u32(items.len() as u32);
        for i in items {
            s = s.bytes(i);
        }
        s
    }
}

/// Reads a payload; every read is bounds-checked.
pub(crate) struct Reader<'a>(pub &'a [u8]);

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "truncated payload")
}

impl Reader<'_> {
    pub(crate) fn u8(&mut self) -> io::Result<u8> {
        let (&b, rest) = self.0.split_first().ok_or_else(short)?;
        self.0 = rest;
        Ok(b)
    }
    pub(crate) fn u32(&mut self) -> io::Result<u32> {
        if self.0.len() < 4 {
            return Err(short());
        }
        let (h, rest) = self.0.split_at(4);
        self.0 = rest;
        Ok(u32::from_le_bytes([h[0], h[1], h[2], h[3]]))
    }
    pub(crate) fn bytes(&mut self) -> io::Result<Vec<u8>> {
        let n = self.u32()? as usize;
        if self.0.len() < n {
            return Err(short());
        }
        let (h, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(h.to_vec())
    }
    pub(crate) fn list(&mut self) -> io::Result<Vec<Vec<u8>>> {
        let n = self.u32()? as usize;
        if n > self.0.len() {
            return Err(short());
        }
        (0..n).map(|_| self.bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn frames_carry_payload_and_fds() {
        let (a, b) = UnixStream::pair().unwrap();
        let (r, w) = crate::sys::pipe().unwrap();
        let payload = Writer::default()
            .u8(3)
            .list([b"echo".as_slice(), b"hi"].into_iter())
            .0;
        send(a.as_fd(), &payload, &[r.as_fd(), w.as_fd()]).unwrap();
        let frame = recv(b.as_fd()).unwrap().unwrap();
        assert_eq!(frame.fds.len(), 2);
        let mut rd = Reader(&frame.payload);
        assert_eq!(rd.u8().unwrap(), 3);
        assert_eq!(rd.list().unwrap(), [b"echo".to_vec(), b"hi".to_vec()]);
        assert!(rd.u8().is_err());
        drop(a);
        assert!(recv(b.as_fd()).unwrap().is_none());
    }

    #[test]
    fn big_frames_survive() {
        let (a, b) = UnixStream::pair().unwrap();
        let big = vec![7u8; 3 << 20];
        let t = std::thread::spawn(move || {
            send(a.as_fd(), &big, &[]).unwrap();
        });
        let f = recv(b.as_fd()).unwrap().unwrap();
        t.join().unwrap();
        assert_eq!(f.payload.len(), 3 << 20);
        assert!(f.payload.iter().all(|&x| x == 7));
    }

    #[test]
    fn truncated_payloads_are_errors_not_panics() {
        let mut r = Reader(&[5, 0, 0, 0, 1]);
        assert!(r.bytes().is_err());
        let mut r = Reader(&[255, 255, 255, 255]);
        assert!(r.list().is_err());
    }
}
