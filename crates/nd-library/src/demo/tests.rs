//! Unit tests of the demo's encoders: checksums against published check values, FLAC frames
//! decoded by an independent decoder (claxon), and byte-for-byte determinism.

use super::*;

#[test]
fn checksums_match_their_check_values() {
    // The standard check input "123456789" (CRC catalogue: CRC-8/SMBUS, CRC-16/UMTS
    // a.k.a. BUYPASS, CRC-32/ISO-HDLC).
    assert_eq!(crc8(b"123456789"), 0xf4);
    assert_eq!(crc16(b"123456789"), 0xfee8);
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
}

#[test]
fn utf8_frame_numbers_follow_flac() {
    let enc = |n: u64| {
        let mut w = BitWriter::default();
        utf8_number(&mut w, n);
        w.bytes
    };
    assert_eq!(enc(0), [0x00]);
    assert_eq!(enc(0x7f), [0x7f]);
    assert_eq!(enc(0x80), [0xc2, 0x80]);
    assert_eq!(enc(0x7ff), [0xdf, 0xbf]);
    assert_eq!(enc(0x800), [0xe0, 0xa0, 0x80]);
}

#[test]
fn triangle_stays_in_range_and_repeats() {
    let wave = triangle(1000, 44_100, 441, 6000);
    assert!(wave.iter().all(|s| (-6000..=6000).contains(s)));
    assert_eq!(wave[0], -6000);
    assert_eq!(wave[50], 6000);
    assert_eq!(&wave[..100], &wave[100..200]);
}

#[test]
fn flac_frames_decode_to_the_samples_written() {
    for (rate, n, channels) in [
        (44_100u32, 10_000usize, 2usize),
        (48_000, 4096, 1),
        (22_050, 3, 1),
        (8_000, 2, 2),
    ] {
        let audio: Vec<Vec<i32>> = (0..channels)
            .map(|c| triangle(n, rate, 330 + 110 * c as u32, 6000 - 1000 * c as i32))
            .collect();
        let bytes = encode_flac(&audio, rate, 16);
        let mut reader =
            claxon::FlacReader::new(std::io::Cursor::new(bytes)).expect("stream header");
        let info = reader.streaminfo();
        assert_eq!(info.sample_rate, rate);
        assert_eq!(info.channels as usize, channels);
        assert_eq!(info.bits_per_sample, 16);
        assert_eq!(info.samples, Some(n as u64));
        let decoded: Vec<i32> = reader
            .samples()
            .collect::<Result<_, _>>()
            .expect("frames decode");
        let expected: Vec<i32> = (0..n)
            .flat_map(|i| audio.iter().map(move |c| c[i]))
            .collect();
        assert_eq!(
            decoded, expected,
            "rate {rate}, {n} samples, {channels} channels"
        );
    }
}

#[test]
fn flac_frame_corruption_is_detected_by_the_decoder() {
    let audio = vec![triangle(5000, 44_100, 440, 6000)];
    let mut bytes = encode_flac(&audio, 44_100, 16);
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes)).expect("stream header");
    let decoded: Result<Vec<i32>, _> = reader.samples().collect();
    assert!(decoded.is_err(), "a flipped byte must fail the frame CRC");
}

#[test]
fn wav_layout_is_canonical_pcm() {
    let audio = vec![vec![1, -2, 3], vec![-4, 5, -6]];
    let wav = encode_wav(&audio, 8000, 16);
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes([wav[4], wav[5], wav[6], wav[7]]) as usize,
        wav.len() - 8
    );
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    assert_eq!(&wav[36..40], b"data");
    let data: Vec<i16> = wav[44..]
        .chunks(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(data, [1, -4, -2, 5, 3, -6]);
}

#[test]
fn cover_png_chunks_carry_valid_crcs() {
    let png = cover_png(16, 16);
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let mut at = 8;
    let mut kinds = Vec::new();
    while at < png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes")) as usize;
        let body = &png[at + 4..at + 8 + len];
        let crc = u32::from_be_bytes(
            png[at + 8 + len..at + 12 + len]
                .try_into()
                .expect("4 bytes"),
        );
        assert_eq!(crc32(body), crc);
        kinds.push(String::from_utf8_lossy(&body[..4]).into_owned());
        at += 12 + len;
    }
    assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
}

#[test]
fn demo_files_are_byte_identical_across_runs() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let da = write_demo_library(a.path()).expect("first demo");
    let db = write_demo_library(b.path()).expect("second demo");
    assert_eq!(da.tracks, db.tracks);
    for track in &da.tracks {
        let x = fs::read(da.file(track)).expect("read");
        let y = fs::read(db.file(track)).expect("read");
        assert!(x == y, "{} differs between runs", track.path);
    }
}

#[test]
fn demo_flac_files_decode_with_their_tags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = write_demo_library(dir.path()).expect("demo");
    for track in demo.tracks.iter().filter(|t| t.format == DemoFormat::Flac) {
        let mut reader = claxon::FlacReader::open(demo.file(track)).expect("open demo flac");
        assert_eq!(reader.get_tag("TITLE").next(), Some(track.title));
        assert_eq!(reader.get_tag("ARTIST").next(), Some(track.artist));
        let genres: Vec<&str> = reader.get_tag("GENRE").collect();
        assert_eq!(genres, track.genres);
        let decoded: Vec<i32> = reader
            .samples()
            .collect::<Result<_, _>>()
            .expect("frames decode");
        let audio = demo_audio(track);
        let expected: Vec<i32> = (0..audio[0].len())
            .flat_map(|i| audio.iter().map(move |c| c[i]))
            .collect();
        assert_eq!(decoded, expected, "{}", track.path);
    }
}
