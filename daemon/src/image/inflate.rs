//! Decompressing a gzip layer on a thread of its own, so that inflating
//! (CPU) and writing the files (the file system) overlap: the unpacker
//! reads the tar stream from [`Inflated`] while the next chunks are being
//! inflated. Chunks travel through a short bounded queue and their buffers
//! come back to be reused, so memory stays at a few chunks whatever the
//! layer's size.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use flate2::read::MultiGzDecoder;

/// Bytes per chunk handed from the inflating thread to the reader.
const CHUNK: usize = 128 * 1024;
/// Chunks inflated ahead of the reader.
const AHEAD: usize = 4;

/// Run `work` on the decompressed stream of `layer`, inflated on another
/// thread meanwhile. The inflating thread stops when `work` returns, read
/// to the end or not; `layer` is then free again (to read its rest, for a
/// digest check).
pub fn with_inflated<R: Read + Send, T>(layer: R, work: impl FnOnce(&mut Inflated) -> T) -> T {
    let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(AHEAD);
    let (free_tx, free_rx) = sync_channel::<Vec<u8>>(AHEAD + 2);
    std::thread::scope(|scope| {
        scope.spawn(move || inflate(layer, &full_tx, &free_rx));
        let mut reader = Inflated {
            chunks: full_rx,
            spent: free_tx,
            current: Vec::new(),
            at: 0,
            done: false,
        };
        // Dropping the reader closes the queue: the thread stops at its
        // next chunk, and the scope waits for it.
        work(&mut reader)
    })
}

/// The inflating thread: fill a buffer (a spent one when there is one),
/// send it; an error is sent as the last item.
fn inflate<R: Read>(layer: R, full: &SyncSender<io::Result<Vec<u8>>>, spent: &Receiver<Vec<u8>>) {
    // Several gzip members in a row are one stream (pigz and umoci's pgzip
    // write them): read them all, not just the first.
    let mut decoder = MultiGzDecoder::new(layer);
    loop {
        // A spent buffer when one is back, else a new one.
        let mut buffer = spent.try_recv().unwrap_or_default();
        buffer.resize(CHUNK, 0);
        let mut filled = 0;
        let outcome = loop {
            if filled == CHUNK {
                break Ok(());
            }
            match decoder.read(&mut buffer[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        buffer.truncate(filled);
        let end = filled < CHUNK;
        if filled > 0 && full.send(Ok(buffer)).is_err() {
            return; // the reader is done with the stream
        }
        if let Err(e) = outcome {
            let _ = full.send(Err(e));
            return;
        }
        if end {
            return;
        }
    }
}

/// The decompressed stream, as a reader.
pub struct Inflated {
    chunks: Receiver<io::Result<Vec<u8>>>,
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for Inflated {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    let spent = std::mem::replace(&mut self.current, chunk);
                    self.at = 0;
                    if spent.capacity() > 0 {
                        // Full means enough buffers are waiting already.
                        let _ = self.spent.try_send(spent);
                    }
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn the_stream_is_the_same_bytes_at_any_size() {
        for size in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK * (AHEAD + 3) + 17] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let packed = gzip(&data);
            let mut out = Vec::new();
            with_inflated(packed.as_slice(), |r| r.read_to_end(&mut out)).unwrap();
            assert_eq!(out, data, "size {size}");
        }
    }

    #[test]
    fn gzip_members_in_a_row_are_one_stream() {
        // pigz and pgzip write a member per block: all of them count.
        let mut packed = gzip(b"first member, ");
        packed.extend(gzip(b"second member"));
        let mut out = Vec::new();
        with_inflated(packed.as_slice(), |r| r.read_to_end(&mut out)).unwrap();
        assert_eq!(out, b"first member, second member");
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_short_stream() {
        let mut packed = gzip(&vec![b'x'; CHUNK * 3]);
        packed.truncate(packed.len() / 2);
        let mut out = Vec::new();
        let result = with_inflated(packed.as_slice(), |r| r.read_to_end(&mut out));
        assert!(result.is_err(), "a cut stream reads as an error");
        let garbage = vec![0x42u8; 1000];
        let result = with_inflated(garbage.as_slice(), |r| r.read_to_end(&mut Vec::new()));
        assert!(result.is_err(), "not gzip at all");
    }

    #[test]
    fn stopping_early_releases_the_layer_for_the_rest() {
        let data = vec![b'y'; CHUNK * 20];
        let packed = gzip(&data);
        let mut layer = std::io::Cursor::new(packed.clone());
        let mut first = [0u8; 10];
        with_inflated(Read::by_ref(&mut layer), |r| r.read_exact(&mut first)).unwrap();
        assert_eq!(&first, b"yyyyyyyyyy");
        // The layer is ours again, part read; the rest can be read out.
        let mut rest = Vec::new();
        layer.read_to_end(&mut rest).unwrap();
        assert!(rest.len() < packed.len());
    }
}
