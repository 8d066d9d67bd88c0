//! A hand-written zip writer for hostile archives the `zip` crate refuses to produce:
//! headers that lie about sizes, duplicate names, unsupported methods, and a deflate
//! stream of hundreds of MiB of zeros built directly (compressing that much with a
//! debug-build deflater would take far too long).

/// One entry, written exactly as given.
pub struct RawEntry {
    pub name: String,
    /// 0 = stored, 8 = deflate.
    pub method: u16,
    pub crc32: u32,
    pub data: Vec<u8>,
    /// The uncompressed size written in both headers (true or not).
    pub declared_size: u32,
}

impl RawEntry {
    /// A stored entry with a correct header.
    pub fn stored(name: &str, data: &[u8]) -> RawEntry {
        RawEntry {
            name: name.to_owned(),
            method: 0,
            crc32: crc32(data),
            data: data.to_vec(),
            declared_size: u32::try_from(data.len()).unwrap_or(u32::MAX),
        }
    }
}

/// A zip archive of `entries`: local headers and data, central directory, end record.
pub fn build(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let name = entry.name.as_bytes();
        let compressed = entry.data.len() as u32;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
        out.extend_from_slice(&20_u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0_u16.to_le_bytes()); // flags
        out.extend_from_slice(&entry.method.to_le_bytes());
        out.extend_from_slice(&0_u16.to_le_bytes()); // time
        out.extend_from_slice(&0x21_u16.to_le_bytes()); // date: 1980-01-01
        out.extend_from_slice(&entry.crc32.to_le_bytes());
        out.extend_from_slice(&compressed.to_le_bytes());
        out.extend_from_slice(&entry.declared_size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0_u16.to_le_bytes()); // extra length
        out.extend_from_slice(name);
        out.extend_from_slice(&entry.data);
        // Central directory header.
        central.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
        central.extend_from_slice(&20_u16.to_le_bytes()); // version made by
        central.extend_from_slice(&20_u16.to_le_bytes()); // version needed
        central.extend_from_slice(&0_u16.to_le_bytes());
        central.extend_from_slice(&entry.method.to_le_bytes());
        central.extend_from_slice(&0_u16.to_le_bytes());
        central.extend_from_slice(&0x21_u16.to_le_bytes());
        central.extend_from_slice(&entry.crc32.to_le_bytes());
        central.extend_from_slice(&compressed.to_le_bytes());
        central.extend_from_slice(&entry.declared_size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
        central.extend_from_slice(&0_u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    let count = entries.len() as u16;
    out.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0_u16.to_le_bytes()); // comment length
    out
}

/// A raw deflate stream that inflates to `len` zero bytes (`len >= 1`): one fixed-Huffman
/// block with a literal 0 and then back-references of length 258 at distance 1, 13 bits
/// per 258 bytes.
pub fn deflate_zeros(len: u64) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = 01, fixed Huffman
    bits.huffman(0b0011_0000, 8); // literal 0
    let mut left = len - 1;
    while left >= 258 {
        bits.huffman(0b1100_0101, 8); // length symbol 285 = 258 bytes
        bits.huffman(0, 5); // distance code 0 = distance 1
        left -= 258;
    }
    for _ in 0..left {
        bits.huffman(0b0011_0000, 8);
    }
    bits.huffman(0, 7); // end of block, symbol 256
    bits.finish()
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    /// Puts `count` bits of `value`, least significant first (deflate's bit order).
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Puts a Huffman code, which deflate stores most significant bit first.
    fn huffman(&mut self, code: u64, count: u32) {
        let reversed = (0..count).fold(0, |r, i| r | (((code >> i) & 1) << (count - 1 - i)));
        self.put(reversed, count);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// CRC-32 (IEEE), bitwise; fine for the small inputs of these tests.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
