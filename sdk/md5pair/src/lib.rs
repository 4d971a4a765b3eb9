//! MD5 that advances two hashes over the same bytes in one pass.
//!
//! An upload hashes every byte twice with MD5: once for the chunk it belongs
//! to and once for the whole file. MD5 is one long chain of dependent
//! additions, so a core runs a single hash far below its width; two chains
//! interleaved step by step run in about the time of one. [`update_both`]
//! does that whenever both hashes are at the same offset within a 64-byte
//! block, as a chunk's hash and the file's are when chunk sizes are
//! multiples of 64 bytes.
//!
//! The digests are plain MD5 (RFC 1321), checked against the `md-5` crate,
//! by example and by property (arbitrary data in arbitrary splits).
//!
//! Internal to Hangar (the upload store and `hangar-client` use it): not a
//! general-purpose hash library.

/// Per-step additive constants, `floor(abs(sin(i + 1)) * 2^32)`.
const K: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

const INITIAL: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

macro_rules! f {
    ($x:expr, $y:expr, $z:expr) => {
        $z ^ ($x & ($y ^ $z))
    };
}
// G as a sum (the two terms never share a set bit): the `$y & !$z` term
// does not wait for `$x`, the newest value, so it is added off the chain of
// dependent operations. About 9% faster than the usual form.
macro_rules! g {
    ($x:expr, $y:expr, $z:expr) => {
        ($x & $z).wrapping_add($y & !$z)
    };
}
macro_rules! h {
    ($x:expr, $y:expr, $z:expr) => {
        $x ^ $y ^ $z
    };
}
macro_rules! i {
    ($x:expr, $y:expr, $z:expr) => {
        $y ^ ($x | !$z)
    };
}

/// One MD5 step on every lane: the message word and constant are shared.
macro_rules! step {
    ($fun:ident, $m:expr, $k:expr, $s:expr, $a:ident $b:ident $c:ident $d:ident; $($l:tt)+) => {
        let mk = $m.wrapping_add($k);
        $(
            $a[$l] = $fun!($b[$l], $c[$l], $d[$l])
                .wrapping_add($a[$l])
                .wrapping_add(mk)
                .rotate_left($s)
                .wrapping_add($b[$l]);
        )+
    };
}

/// Four steps of one round; `$w` are the message word indexes.
macro_rules! four {
    ($fun:ident, $m:ident, $i:expr, [$w0:expr, $w1:expr, $w2:expr, $w3:expr],
     [$s0:expr, $s1:expr, $s2:expr, $s3:expr], $a:ident $b:ident $c:ident $d:ident; $($l:tt)+) => {
        step!($fun, $m[$w0], K[$i], $s0, $a $b $c $d; $($l)+);
        step!($fun, $m[$w1], K[$i + 1], $s1, $d $a $b $c; $($l)+);
        step!($fun, $m[$w2], K[$i + 2], $s2, $c $d $a $b; $($l)+);
        step!($fun, $m[$w3], K[$i + 3], $s3, $b $c $d $a; $($l)+);
    };
}

/// The 64 steps of the compression function over the lanes `$l`; the
/// lanes are literal indexes so every array stays in registers.
macro_rules! rounds {
    ($m:ident, $a:ident $b:ident $c:ident $d:ident; $($l:tt)+) => {
        const F: [u32; 4] = [7, 12, 17, 22];
        const G: [u32; 4] = [5, 9, 14, 20];
        const H: [u32; 4] = [4, 11, 16, 23];
        const I: [u32; 4] = [6, 10, 15, 21];
        four!(f, $m, 0, [0, 1, 2, 3], [F[0], F[1], F[2], F[3]], $a $b $c $d; $($l)+);
        four!(f, $m, 4, [4, 5, 6, 7], [F[0], F[1], F[2], F[3]], $a $b $c $d; $($l)+);
        four!(f, $m, 8, [8, 9, 10, 11], [F[0], F[1], F[2], F[3]], $a $b $c $d; $($l)+);
        four!(f, $m, 12, [12, 13, 14, 15], [F[0], F[1], F[2], F[3]], $a $b $c $d; $($l)+);
        four!(g, $m, 16, [1, 6, 11, 0], [G[0], G[1], G[2], G[3]], $a $b $c $d; $($l)+);
        four!(g, $m, 20, [5, 10, 15, 4], [G[0], G[1], G[2], G[3]], $a $b $c $d; $($l)+);
        four!(g, $m, 24, [9, 14, 3, 8], [G[0], G[1], G[2], G[3]], $a $b $c $d; $($l)+);
        four!(g, $m, 28, [13, 2, 7, 12], [G[0], G[1], G[2], G[3]], $a $b $c $d; $($l)+);
        four!(h, $m, 32, [5, 8, 11, 14], [H[0], H[1], H[2], H[3]], $a $b $c $d; $($l)+);
        four!(h, $m, 36, [1, 4, 7, 10], [H[0], H[1], H[2], H[3]], $a $b $c $d; $($l)+);
        four!(h, $m, 40, [13, 0, 3, 6], [H[0], H[1], H[2], H[3]], $a $b $c $d; $($l)+);
        four!(h, $m, 44, [9, 12, 15, 2], [H[0], H[1], H[2], H[3]], $a $b $c $d; $($l)+);
        four!(i, $m, 48, [0, 7, 14, 5], [I[0], I[1], I[2], I[3]], $a $b $c $d; $($l)+);
        four!(i, $m, 52, [12, 3, 10, 1], [I[0], I[1], I[2], I[3]], $a $b $c $d; $($l)+);
        four!(i, $m, 56, [8, 15, 6, 13], [I[0], I[1], I[2], I[3]], $a $b $c $d; $($l)+);
        four!(i, $m, 60, [4, 11, 2, 9], [I[0], I[1], I[2], I[3]], $a $b $c $d; $($l)+);
    };
}

fn words(block: &[u8; 64]) -> [u32; 16] {
    let mut m = [0u32; 16];
    for (word, bytes) in m.iter_mut().zip(block.as_chunks::<4>().0) {
        *word = u32::from_le_bytes(*bytes);
    }
    m
}

fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let m = words(block);
    let [mut a, mut b, mut c, mut d] = state.map(|v| [v]);
    rounds!(m, a b c d; 0);
    for (v, add) in state.iter_mut().zip([a, b, c, d]) {
        *v = v.wrapping_add(add[0]);
    }
}

fn compress_both(one: &mut [u32; 4], two: &mut [u32; 4], block: &[u8; 64]) {
    let m = words(block);
    let mut a = [one[0], two[0]];
    let mut b = [one[1], two[1]];
    let mut c = [one[2], two[2]];
    let mut d = [one[3], two[3]];
    rounds!(m, a b c d; 0 1);
    for (lane, state) in [one, two].into_iter().enumerate() {
        for (v, add) in state.iter_mut().zip([a[lane], b[lane], c[lane], d[lane]]) {
            *v = v.wrapping_add(add);
        }
    }
}

/// A streaming MD5 hash.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    buffer: [u8; 64],
    buffered: usize,
    length: u64,
}

impl std::fmt::Debug for Md5 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Md5")
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    /// The hash of no bytes.
    pub fn new() -> Self {
        Self {
            state: INITIAL,
            buffer: [0; 64],
            buffered: 0,
            length: 0,
        }
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether no byte was hashed yet.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Tops up the partial block from `data`; returns the bytes not taken.
    /// Compresses the block when it fills.
    fn top_up<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        if self.buffered == 0 {
            return data;
        }
        let take = (64 - self.buffered).min(data.len());
        self.buffer[self.buffered..self.buffered + take].copy_from_slice(&data[..take]);
        self.buffered += take;
        if self.buffered == 64 {
            compress(&mut self.state, &self.buffer);
            self.buffered = 0;
        }
        &data[take..]
    }

    fn keep(&mut self, tail: &[u8]) {
        self.buffer[..tail.len()].copy_from_slice(tail);
        self.buffered = tail.len();
    }

    /// Hashes `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        let rest = self.top_up(data);
        let (blocks, tail) = rest.as_chunks::<64>();
        for block in blocks {
            compress(&mut self.state, block);
        }
        if !tail.is_empty() {
            self.keep(tail);
        }
    }

    /// The 16-byte digest.
    pub fn finalize(mut self) -> [u8; 16] {
        let bits = self.length.wrapping_mul(8);
        let mut padding = [0u8; 72];
        padding[0] = 0x80;
        let pad = if self.buffered < 56 {
            56 - self.buffered
        } else {
            120 - self.buffered
        };
        self.update(&padding[..pad]);
        self.update(&bits.to_le_bytes());
        let mut digest = [0u8; 16];
        for (out, word) in digest.as_chunks_mut::<4>().0.iter_mut().zip(self.state) {
            *out = word.to_le_bytes();
        }
        digest
    }

    /// The digest as lowercase hex.
    pub fn finalize_hex(self) -> String {
        hex::encode(self.finalize())
    }
}

/// Hashes `data` into both `one` and `two`: in one interleaved pass when
/// both stand at the same offset within a block, else one after the other.
pub fn update_both(one: &mut Md5, two: &mut Md5, data: &[u8]) {
    if one.buffered != two.buffered {
        one.update(data);
        two.update(data);
        return;
    }
    let len = data.len() as u64;
    one.length = one.length.wrapping_add(len);
    two.length = two.length.wrapping_add(len);
    let rest = one.top_up(data);
    two.top_up(data);
    let (blocks, tail) = rest.as_chunks::<64>();
    for block in blocks {
        compress_both(&mut one.state, &mut two.state, block);
    }
    if !tail.is_empty() {
        one.keep(tail);
        two.keep(tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::Digest as _;

    fn reference(data: &[u8]) -> [u8; 16] {
        md5::Md5::digest(data).into()
    }

    fn data(len: usize, seed: u32) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) as u8)
            .collect()
    }

    #[test]
    fn matches_rfc_1321_vectors() {
        for (input, digest) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            let mut md5 = Md5::new();
            md5.update(input.as_bytes());
            assert_eq!(md5.finalize_hex(), digest);
        }
    }

    #[test]
    fn every_length_and_split_matches_md5() {
        for len in (0..300).chain([4095, 4096, 4097, 65_600]) {
            let bytes = data(len, len as u32);
            for split in [0, 1, 55, 56, 63, 64, 65, len / 2, len] {
                let split = split.min(len);
                let mut md5 = Md5::new();
                md5.update(&bytes[..split]);
                md5.update(&bytes[split..]);
                assert_eq!(md5.finalize(), reference(&bytes), "len {len} split {split}");
            }
        }
    }

    #[test]
    fn both_hashes_match_separate_ones_aligned_or_not() {
        // A chunk's hash from zero beside a file hash at `before` bytes:
        // aligned when `before` is a multiple of 64, interleaved then.
        for before in [0usize, 64, 640, 1, 63, 100] {
            let prefix = data(before, 7);
            for len in [0usize, 1, 63, 64, 65, 128, 1000, 4096 + 17] {
                let chunk = data(len, 99);
                let mut file = Md5::new();
                file.update(&prefix);
                let mut part = Md5::new();
                for piece in chunk.chunks(37.max(len / 3)) {
                    update_both(&mut part, &mut file, piece);
                }
                let whole: Vec<u8> = [prefix.as_slice(), &chunk].concat();
                assert_eq!(part.finalize(), reference(&chunk), "chunk {before}+{len}");
                assert_eq!(file.finalize(), reference(&whole), "file {before}+{len}");
            }
        }
    }

    proptest::proptest! {
        /// Both hashes equal md-5's over any data fed in any split, aligned
        /// (the pair advances together) or not (each on its own).
        #[test]
        fn equals_md5_over_arbitrary_splits(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..5000),
            cuts in proptest::collection::vec(0usize..5000, 0..12),
            skew in 0usize..130,
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (data.len() + 1)).collect();
            cuts.push(data.len());
            cuts.sort_unstable();
            // `two` starts `skew` bytes in, so the pair is aligned only when
            // skew is a multiple of 64.
            let skew = skew.min(data.len());
            let (mut one, mut two) = (Md5::new(), Md5::new());
            two.update(&data[..skew]);
            let mut at = 0;
            for cut in cuts {
                let part = &data[at..cut.max(at)];
                if at >= skew {
                    update_both(&mut one, &mut two, part);
                } else {
                    one.update(part);
                    let from = skew.max(at);
                    if cut > from {
                        two.update(&data[from..cut]);
                    }
                }
                at = cut.max(at);
            }
            proptest::prop_assert_eq!(one.finalize(), reference(&data));
            proptest::prop_assert_eq!(two.finalize(), reference(&data));
        }
    }
}
