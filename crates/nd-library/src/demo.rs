//! A small, deterministic demo catalog of genuine audio files: 12 short tracks by 3 artists
//! on 4 albums in 2 libraries, as FLAC (Vorbis comments, one album with embedded cover art)
//! and WAV (ID3v2), with MusicBrainz ids, ISRCs, genres, ReplayGain, a compilation, and a
//! title with diacritics. The audio is a quiet triangle wave (a few hundred milliseconds per
//! track) encoded here, so the same bytes are written on every run and every platform.
//!
//! [`write_demo_library`] writes it; [`DemoLibrary::config`] opens it with [`demo_users`]
//! and a few stars and ratings; [`DemoLibrary::tracks`] lists exactly what each file's tags
//! hold, for tests to compare against.
//!
//! ```no_run
//! use nd_library::MusicLibrary;
//! use nd_library::demo::write_demo_library;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let demo = write_demo_library(std::path::Path::new("/tmp/ndp-demo"))?;
//! let library = MusicLibrary::open(demo.config())?;
//! assert_eq!(library.tracks().len(), demo.tracks.len());
//! # Ok(()) }
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use lofty::config::WriteOptions;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::tag::{ItemKey, ItemValue, Tag, TagExt, TagItem, TagType};
use nd_host_appdata::provider::UserInfo;

use crate::{Annotation, ArtworkConfig, LibraryConfig, LibraryRoot, UserAnnotation, track_id};

/// The container a demo track is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoFormat {
    /// FLAC with Vorbis comments.
    Flac,
    /// PCM WAV with an ID3v2 chunk.
    Wav,
}

/// One demo file and exactly what its tags say (empty string / `None` = tag absent).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoTrack {
    pub library_id: i32,
    /// Relative to the library root, `/`-separated.
    pub path: &'static str,
    pub format: DemoFormat,
    pub sample_rate: u32,
    pub channels: u8,
    pub bits_per_sample: u8,
    pub duration_ms: u32,
    pub title: &'static str,
    pub artist: &'static str,
    pub album: &'static str,
    pub album_artist: &'static str,
    pub track_number: u32,
    pub disc_number: u32,
    /// The recording date tag (`2019-03-15` or `2015`).
    pub date: &'static str,
    pub genres: &'static [&'static str],
    pub comment: &'static str,
    pub compilation: bool,
    pub bpm: Option<u32>,
    pub isrc: &'static str,
    pub mbz_recording_id: &'static str,
    pub mbz_release_track_id: &'static str,
    pub mbz_album_id: &'static str,
    pub mbz_release_group_id: &'static str,
    pub mbz_artist_id: &'static str,
    pub rg_track_gain: Option<f64>,
    pub rg_track_peak: Option<f64>,
    pub rg_album_gain: Option<f64>,
    pub rg_album_peak: Option<f64>,
    /// Embedded front cover (PNG).
    pub cover_art: bool,
    /// The triangle wave's frequency in Hz.
    pub tone_hz: u32,
}

impl DemoTrack {
    /// The id [`MusicLibrary`](crate::MusicLibrary) gives this track.
    pub fn id(&self) -> String {
        track_id(self.library_id, self.path)
    }

    /// Samples per channel.
    pub fn samples(&self) -> u64 {
        u64::from(self.duration_ms) * u64::from(self.sample_rate) / 1000
    }
}

/// A written demo catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLibrary {
    /// The folder given to [`write_demo_library`].
    pub dir: PathBuf,
    /// `music` (id 1, "Music") and `extra` (id 2, "Extra") under `dir`.
    pub roots: Vec<LibraryRoot>,
    pub tracks: Vec<DemoTrack>,
}

/// The artwork key of the demo, so its URLs are the same on every run.
pub const DEMO_ARTWORK_SECRET: &[u8] = b"ndp-demo-artwork-secret";

/// When alice starred "Take Off" (unix seconds).
pub const DEMO_STARRED_AT: i64 = 1_700_000_000;

impl DemoLibrary {
    /// A configuration serving this catalog: both roots, [`demo_users`], a fixed artwork
    /// secret, and annotations: alice starred "Take Off" and rates it 5 and "Slow Tide" 4;
    /// bob rates "Take Off" 2 and starred the compilation's "Landing Lights".
    pub fn config(&self) -> LibraryConfig {
        let ann = |user: &str, title: &str, library_id: i32, annotation: Annotation| {
            let track = self
                .tracks
                .iter()
                .find(|t| t.title == title && t.library_id == library_id);
            track.map(|t| UserAnnotation {
                user: user.to_owned(),
                media_file_id: t.id(),
                annotation,
            })
        };
        let annotations = [
            ann(
                "alice",
                "Take Off",
                1,
                Annotation {
                    starred: true,
                    starred_at: Some(DEMO_STARRED_AT),
                    rating: 5,
                    ..Annotation::default()
                },
            ),
            ann(
                "alice",
                "Slow Tide",
                1,
                Annotation {
                    rating: 4,
                    ..Annotation::default()
                },
            ),
            ann(
                "bob",
                "Take Off",
                1,
                Annotation {
                    rating: 2,
                    ..Annotation::default()
                },
            ),
            ann(
                "bob",
                "Landing Lights",
                2,
                Annotation {
                    starred: true,
                    starred_at: Some(DEMO_STARRED_AT + 60),
                    ..Annotation::default()
                },
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        LibraryConfig {
            roots: self.roots.clone(),
            users: demo_users(),
            annotations,
            artwork: ArtworkConfig {
                secret: DEMO_ARTWORK_SECRET.to_vec(),
                ..ArtworkConfig::default()
            },
            scrobble_log: None,
        }
    }

    /// The first track with this title.
    pub fn track(&self, title: &str) -> Option<&DemoTrack> {
        self.tracks.iter().find(|t| t.title == title)
    }

    /// The file of a track on disk.
    pub fn file(&self, track: &DemoTrack) -> PathBuf {
        let root = self
            .roots
            .iter()
            .find(|r| r.id == track.library_id)
            .map_or_else(|| self.dir.clone(), |r| r.path.clone());
        root.join(track.path)
    }
}

/// The demo accounts: `admin` (administrator), `alice` and `bob`.
pub fn demo_users() -> Vec<UserInfo> {
    vec![
        UserInfo {
            id: "u-admin".into(),
            user_name: "admin".into(),
            name: "Admin".into(),
            is_admin: true,
        },
        UserInfo {
            id: "u-alice".into(),
            user_name: "alice".into(),
            name: "Alice".into(),
            is_admin: false,
        },
        UserInfo {
            id: "u-bob".into(),
            user_name: "bob".into(),
            name: "Bob".into(),
            is_admin: false,
        },
    ]
}

const OWLS: &str = "The Midnight Owls";
const OWLS_MBID: &str = "7c5a2b1e-3f0d-4e6a-9b8c-1d2e3f4a5b01";
const VALE: &str = "Aurora Vale";
const VALE_MBID: &str = "7c5a2b1e-3f0d-4e6a-9b8c-1d2e3f4a5b02";
const KETTLE: &str = "DJ Kettle";
const NIGHT_FLIGHT_MBID: &str = "a1b2c3d4-0001-4000-8000-00000000a001";
const NIGHT_FLIGHT_RG: &str = "a1b2c3d4-0001-4000-8000-00000000a002";
const LANTERNS_MBID: &str = "a1b2c3d4-0002-4000-8000-00000000b001";
const NIGHT_SHIFT_MBID: &str = "a1b2c3d4-0004-4000-8000-00000000d001";

const BASE: DemoTrack = DemoTrack {
    library_id: 1,
    path: "",
    format: DemoFormat::Flac,
    sample_rate: 44_100,
    channels: 2,
    bits_per_sample: 16,
    duration_ms: 500,
    title: "",
    artist: "",
    album: "",
    album_artist: "",
    track_number: 0,
    disc_number: 1,
    date: "",
    genres: &[],
    comment: "",
    compilation: false,
    bpm: None,
    isrc: "",
    mbz_recording_id: "",
    mbz_release_track_id: "",
    mbz_album_id: "",
    mbz_release_group_id: "",
    mbz_artist_id: "",
    rg_track_gain: None,
    rg_track_peak: None,
    rg_album_gain: None,
    rg_album_peak: None,
    cover_art: false,
    tone_hz: 220,
};

const NIGHT_FLIGHT: DemoTrack = DemoTrack {
    album: "Night Flight",
    artist: OWLS,
    album_artist: OWLS,
    date: "2019-03-15",
    genres: &["Rock"],
    mbz_album_id: NIGHT_FLIGHT_MBID,
    mbz_release_group_id: NIGHT_FLIGHT_RG,
    mbz_artist_id: OWLS_MBID,
    rg_album_gain: Some(-6.2),
    rg_album_peak: Some(0.95),
    cover_art: true,
    ..BASE
};

const PAPER_LANTERNS: DemoTrack = DemoTrack {
    album: "Paper Lanterns",
    artist: VALE,
    album_artist: VALE,
    date: "2021-05-03",
    genres: &["Electronic", "Ambient"],
    mbz_album_id: LANTERNS_MBID,
    mbz_artist_id: VALE_MBID,
    sample_rate: 48_000,
    channels: 1,
    ..BASE
};

const KETTLE_SESSIONS: DemoTrack = DemoTrack {
    album: "Kettle Sessions",
    artist: KETTLE,
    date: "2015",
    genres: &["Hip-Hop"],
    format: DemoFormat::Wav,
    sample_rate: 22_050,
    channels: 1,
    ..BASE
};

const NIGHT_SHIFT: DemoTrack = DemoTrack {
    library_id: 2,
    album: "Night Shift Vol. 1",
    album_artist: "Various Artists",
    date: "2022",
    genres: &["Pop"],
    compilation: true,
    mbz_album_id: NIGHT_SHIFT_MBID,
    ..BASE
};

/// The catalog, in library and path order.
pub const DEMO_TRACKS: &[DemoTrack] = &[
    DemoTrack {
        path: "The Midnight Owls/Night Flight/01 - Take Off.flac",
        title: "Take Off",
        track_number: 1,
        duration_ms: 1200,
        bpm: Some(128),
        comment: "First track of the ndp demo",
        isrc: "USMO11900001",
        mbz_recording_id: "b0000000-0000-4000-8000-000000000001",
        mbz_release_track_id: "c0000000-0000-4000-8000-000000000001",
        rg_track_gain: Some(-5.8),
        rg_track_peak: Some(0.91),
        tone_hz: 220,
        ..NIGHT_FLIGHT
    },
    DemoTrack {
        path: "The Midnight Owls/Night Flight/02 - Cruising Altitude.flac",
        title: "Cruising Altitude",
        track_number: 2,
        duration_ms: 900,
        bpm: Some(96),
        mbz_recording_id: "b0000000-0000-4000-8000-000000000002",
        mbz_release_track_id: "c0000000-0000-4000-8000-000000000002",
        rg_track_gain: Some(-6.5),
        rg_track_peak: Some(0.88),
        tone_hz: 247,
        ..NIGHT_FLIGHT
    },
    DemoTrack {
        path: "The Midnight Owls/Night Flight/03 - Turbulence (Live).flac",
        title: "Turbulence (Live)",
        track_number: 3,
        duration_ms: 700,
        rg_track_gain: Some(-7.1),
        rg_track_peak: Some(0.97),
        tone_hz: 262,
        ..NIGHT_FLIGHT
    },
    DemoTrack {
        path: "The Midnight Owls/Night Flight/04 - Landing Lights.flac",
        title: "Landing Lights",
        track_number: 4,
        duration_ms: 1000,
        mbz_recording_id: "b0000000-0000-4000-8000-000000000004",
        mbz_release_track_id: "c0000000-0000-4000-8000-000000000004",
        rg_track_gain: Some(-4.9),
        rg_track_peak: Some(0.8),
        tone_hz: 294,
        ..NIGHT_FLIGHT
    },
    DemoTrack {
        path: "Aurora Vale/Paper Lanterns/01 - Café Lumière.flac",
        title: "Café Lumière",
        track_number: 1,
        duration_ms: 800,
        mbz_recording_id: "b0000000-0000-4000-8000-000000000005",
        tone_hz: 330,
        ..PAPER_LANTERNS
    },
    DemoTrack {
        path: "Aurora Vale/Paper Lanterns/02 - Slow Tide.flac",
        title: "Slow Tide",
        track_number: 2,
        duration_ms: 600,
        isrc: "GBAV12100002",
        tone_hz: 349,
        ..PAPER_LANTERNS
    },
    DemoTrack {
        path: "Aurora Vale/Paper Lanterns/03 - Glass Garden.flac",
        title: "Glass Garden",
        track_number: 3,
        duration_ms: 500,
        comment: "Recorded in one take",
        tone_hz: 392,
        ..PAPER_LANTERNS
    },
    DemoTrack {
        path: "DJ Kettle/Kettle Sessions/01 - Steam.wav",
        title: "Steam",
        track_number: 1,
        duration_ms: 400,
        bpm: Some(90),
        tone_hz: 440,
        ..KETTLE_SESSIONS
    },
    DemoTrack {
        path: "DJ Kettle/Kettle Sessions/02 - Whistle Stop.wav",
        title: "Whistle Stop",
        track_number: 2,
        duration_ms: 500,
        isrc: "USKT11500002",
        comment: "Kettle on",
        tone_hz: 494,
        ..KETTLE_SESSIONS
    },
    DemoTrack {
        path: "Night Shift Vol. 1/01 - Landing Lights.flac",
        title: "Landing Lights",
        artist: OWLS,
        mbz_artist_id: OWLS_MBID,
        track_number: 1,
        duration_ms: 1500,
        mbz_recording_id: "b0000000-0000-4000-8000-000000000009",
        tone_hz: 523,
        ..NIGHT_SHIFT
    },
    DemoTrack {
        path: "Night Shift Vol. 1/02 - Vale Lights.flac",
        title: "Vale Lights",
        artist: VALE,
        mbz_artist_id: VALE_MBID,
        track_number: 2,
        duration_ms: 700,
        isrc: "GBAV12200009",
        tone_hz: 587,
        ..NIGHT_SHIFT
    },
    DemoTrack {
        path: "Night Shift Vol. 1/03 - Kettle Drum.flac",
        title: "Kettle Drum",
        artist: KETTLE,
        track_number: 3,
        duration_ms: 600,
        tone_hz: 659,
        ..NIGHT_SHIFT
    },
];

/// Writes the demo catalog under `dir` (created if needed; existing demo files are
/// overwritten): `dir/music` is library 1 "Music", `dir/extra` library 2 "Extra".
pub fn write_demo_library(dir: &Path) -> io::Result<DemoLibrary> {
    let roots = vec![
        LibraryRoot {
            id: 1,
            name: "Music".into(),
            path: dir.join("music"),
        },
        LibraryRoot {
            id: 2,
            name: "Extra".into(),
            path: dir.join("extra"),
        },
    ];
    let demo = DemoLibrary {
        dir: dir.to_path_buf(),
        roots,
        tracks: DEMO_TRACKS.to_vec(),
    };
    for track in &demo.tracks {
        let path = demo.file(track);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        write_track(&path, track)
            .map_err(|e| io::Error::other(format!("writing {}: {e}", path.display())))?;
    }
    Ok(demo)
}

/// A triangle wave peaking at ±`amplitude`: integer arithmetic only, so it is the same on
/// every platform.
pub(crate) fn triangle(samples: usize, rate: u32, hz: u32, amplitude: i32) -> Vec<i32> {
    let period = u64::from((rate / hz.max(1)).max(2));
    let a = i64::from(amplitude);
    (0..samples as u64)
        .map(|n| {
            let phase = i64::try_from(n % period).unwrap_or(0);
            let p = i64::try_from(period).unwrap_or(2);
            let v = if 2 * phase < p {
                -a + 4 * a * phase / p
            } else {
                3 * a - 4 * a * phase / p
            };
            i32::try_from(v).unwrap_or(0)
        })
        .collect()
}

/// The channels of a demo track: the tone, and a quieter copy on the right.
pub(crate) fn demo_audio(track: &DemoTrack) -> Vec<Vec<i32>> {
    let n = usize::try_from(track.samples()).unwrap_or(0);
    let left = triangle(n, track.sample_rate, track.tone_hz, 6000);
    let mut channels = vec![left];
    if track.channels == 2 {
        channels.push(triangle(n, track.sample_rate, track.tone_hz, 3000));
    }
    channels
}

fn write_track(path: &Path, track: &DemoTrack) -> io::Result<()> {
    let audio = demo_audio(track);
    let bytes = match track.format {
        DemoFormat::Flac => encode_flac(&audio, track.sample_rate, track.bits_per_sample),
        DemoFormat::Wav => encode_wav(&audio, track.sample_rate, track.bits_per_sample),
    };
    fs::write(path, bytes)?;
    let tag = demo_tag(track)?;
    tag.save_to_path(path, WriteOptions::default())
        .map_err(io::Error::other)
}

fn demo_tag(track: &DemoTrack) -> io::Result<Tag> {
    let tag_type = match track.format {
        DemoFormat::Flac => TagType::VorbisComments,
        DemoFormat::Wav => TagType::Id3v2,
    };
    let mut tag = Tag::new(tag_type);
    let mut set = |key: ItemKey, value: String| -> io::Result<()> {
        if value.is_empty() {
            return Ok(());
        }
        let item = TagItem::new(key.clone(), ItemValue::Text(value));
        if tag.push(item) {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "{tag_type:?} cannot hold {key:?}"
            )))
        }
    };
    let gain = |v: Option<f64>| v.map(|v| format!("{v:.2} dB")).unwrap_or_default();
    let peak = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
    set(ItemKey::TrackTitle, track.title.into())?;
    set(ItemKey::TrackArtist, track.artist.into())?;
    set(ItemKey::AlbumTitle, track.album.into())?;
    set(ItemKey::AlbumArtist, track.album_artist.into())?;
    set(ItemKey::TrackNumber, track.track_number.to_string())?;
    set(ItemKey::DiscNumber, track.disc_number.to_string())?;
    set(ItemKey::RecordingDate, track.date.into())?;
    for genre in track.genres {
        set(ItemKey::Genre, (*genre).into())?;
    }
    set(ItemKey::Comment, track.comment.into())?;
    if track.compilation {
        set(ItemKey::FlagCompilation, "1".into())?;
    }
    if let Some(bpm) = track.bpm {
        let key = match track.format {
            DemoFormat::Flac => ItemKey::Bpm,
            DemoFormat::Wav => ItemKey::IntegerBpm,
        };
        set(key, bpm.to_string())?;
    }
    set(ItemKey::Isrc, track.isrc.into())?;
    set(
        ItemKey::MusicBrainzRecordingId,
        track.mbz_recording_id.into(),
    )?;
    set(
        ItemKey::MusicBrainzTrackId,
        track.mbz_release_track_id.into(),
    )?;
    set(ItemKey::MusicBrainzReleaseId, track.mbz_album_id.into())?;
    set(
        ItemKey::MusicBrainzReleaseGroupId,
        track.mbz_release_group_id.into(),
    )?;
    set(ItemKey::MusicBrainzArtistId, track.mbz_artist_id.into())?;
    set(ItemKey::ReplayGainTrackGain, gain(track.rg_track_gain))?;
    set(ItemKey::ReplayGainTrackPeak, peak(track.rg_track_peak))?;
    set(ItemKey::ReplayGainAlbumGain, gain(track.rg_album_gain))?;
    set(ItemKey::ReplayGainAlbumPeak, peak(track.rg_album_peak))?;
    if track.cover_art {
        tag.push_picture(Picture::new_unchecked(
            PictureType::CoverFront,
            Some(MimeType::Png),
            None,
            cover_png(16, 16),
        ));
    }
    Ok(tag)
}

/// Writes bits most-significant first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    /// The low `n` (≤ 32) bits of `value`.
    fn put(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 32);
        if n == 0 {
            return;
        }
        self.acc = (self.acc << n) | (value & ((1u64 << n) - 1));
        self.bits += n;
        while self.bits >= 8 {
            self.bits -= 8;
            self.bytes.push((self.acc >> self.bits) as u8);
        }
        self.acc &= (1u64 << self.bits) - 1;
    }

    /// A two's-complement value in `n` bits.
    fn put_signed(&mut self, value: i64, n: u32) {
        self.put(value as u64, n);
    }

    /// `q` zeros, then a one.
    fn unary(&mut self, mut q: u64) {
        while q >= 32 {
            self.put(0, 32);
            q -= 32;
        }
        self.put(1, u32::try_from(q).unwrap_or(0) + 1);
    }

    /// Pads with zeros to a byte boundary.
    fn align(&mut self) {
        if self.bits > 0 {
            self.put(0, 8 - self.bits);
        }
    }
}

/// CRC-8, polynomial x⁸+x²+x+1, as in FLAC frame headers.
pub(crate) fn crc8(data: &[u8]) -> u8 {
    let mut crc = 0u8;
    for &b in data {
        crc ^= b;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// CRC-16, polynomial x¹⁶+x¹⁵+x²+1, as in FLAC frame footers.
pub(crate) fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x8005
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// CRC-32 (IEEE, reflected), as in PNG chunks.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Adler-32, as in zlib streams.
pub(crate) fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// FLAC's UTF-8-like coding of a frame number.
fn utf8_number(w: &mut BitWriter, n: u64) {
    if n < 0x80 {
        w.put(n, 8);
        return;
    }
    let extra = match n {
        0..0x800 => 1,
        0x800..0x1_0000 => 2,
        0x1_0000..0x20_0000 => 3,
        0x20_0000..0x400_0000 => 4,
        0x400_0000..0x8000_0000 => 5,
        _ => 6,
    };
    let lead_marker: u64 = (0xff00u64 >> (extra + 1)) & 0xff;
    w.put(lead_marker | (n >> (6 * extra)), 8);
    for i in (0..extra).rev() {
        w.put(0x80 | ((n >> (6 * i)) & 0x3f), 8);
    }
}

fn sample_rate_code(rate: u32) -> u64 {
    match rate {
        88_200 => 0b0001,
        176_400 => 0b0010,
        192_000 => 0b0011,
        8_000 => 0b0100,
        16_000 => 0b0101,
        22_050 => 0b0110,
        24_000 => 0b0111,
        32_000 => 0b1000,
        44_100 => 0b1001,
        48_000 => 0b1010,
        96_000 => 0b1011,
        _ => 0b0000, // from STREAMINFO
    }
}

fn sample_size_code(bits: u8) -> u64 {
    match bits {
        8 => 0b001,
        12 => 0b010,
        16 => 0b100,
        20 => 0b101,
        24 => 0b110,
        _ => 0b000, // from STREAMINFO
    }
}

const FLAC_BLOCK_SIZE: usize = 4096;
const FLAC_PADDING: usize = 64;

/// One subframe: FIXED order 2 with Rice-coded residuals (one partition), or VERBATIM for
/// blocks too short to predict.
fn encode_subframe(w: &mut BitWriter, samples: &[i32], bps: u32) {
    if samples.len() <= 2 {
        w.put(0, 1);
        w.put(0b000001, 6);
        w.put(0, 1);
        for &s in samples {
            w.put_signed(i64::from(s), bps);
        }
        return;
    }
    w.put(0, 1);
    w.put(0b001010, 6); // FIXED, order 2
    w.put(0, 1); // no wasted bits
    w.put_signed(i64::from(samples[0]), bps);
    w.put_signed(i64::from(samples[1]), bps);
    let residuals: Vec<u64> = samples
        .windows(3)
        .map(|s| {
            let r = i64::from(s[2]) - 2 * i64::from(s[1]) + i64::from(s[0]);
            ((r << 1) ^ (r >> 63)) as u64 // zigzag
        })
        .collect();
    let mean = residuals.iter().sum::<u64>() / residuals.len() as u64;
    let k = (64 - mean.leading_zeros()).min(14);
    w.put(0b00, 2); // Rice, 4-bit parameters
    w.put(0, 4); // partition order 0
    w.put(u64::from(k), 4);
    for u in residuals {
        w.unary(u >> k);
        w.put(u, k);
    }
}

/// A complete FLAC stream (STREAMINFO only; lofty adds the tag blocks). `channels` holds one
/// sample vector per channel, all the same length.
pub(crate) fn encode_flac(channels: &[Vec<i32>], rate: u32, bits: u8) -> Vec<u8> {
    let total = channels.first().map_or(0, Vec::len);
    let mut frames = Vec::new();
    let (mut min_frame, mut max_frame) = (usize::MAX, 0usize);
    let mut start = 0;
    let mut number = 0u64;
    while start < total {
        let n = FLAC_BLOCK_SIZE.min(total - start);
        let mut w = BitWriter::default();
        w.put(0b11_1111_1111_1110, 14); // sync
        w.put(0, 1); // reserved
        w.put(0, 1); // fixed block size
        w.put(0b0111, 4); // block size: 16 bits follow
        w.put(sample_rate_code(rate), 4);
        w.put(channels.len().saturating_sub(1) as u64, 4); // independent channels
        w.put(sample_size_code(bits), 3);
        w.put(0, 1);
        utf8_number(&mut w, number);
        w.put((n - 1) as u64, 16);
        let crc = crc8(&w.bytes);
        w.put(u64::from(crc), 8);
        for channel in channels {
            encode_subframe(&mut w, &channel[start..start + n], u32::from(bits));
        }
        w.align();
        let crc = crc16(&w.bytes);
        w.put(u64::from(crc), 16);
        min_frame = min_frame.min(w.bytes.len());
        max_frame = max_frame.max(w.bytes.len());
        frames.extend_from_slice(&w.bytes);
        start += n;
        number += 1;
    }
    let block = FLAC_BLOCK_SIZE.min(total.max(16)) as u64;
    let mut info = BitWriter::default();
    info.put(block, 16);
    info.put(block, 16);
    info.put(
        if frames.is_empty() {
            0
        } else {
            min_frame as u64
        },
        24,
    );
    info.put(max_frame as u64, 24);
    info.put(u64::from(rate), 20);
    info.put(channels.len().saturating_sub(1) as u64, 3);
    info.put(u64::from(bits) - 1, 5);
    info.put((total as u64) >> 32, 4);
    info.put(total as u64 & 0xffff_ffff, 32);
    for _ in 0..4 {
        info.put(0, 32); // MD5 unknown
    }
    let mut out = b"fLaC".to_vec();
    out.push(0x00); // STREAMINFO
    out.extend_from_slice(&[0, 0, 34]);
    out.extend_from_slice(&info.bytes);
    // A trailing PADDING block, as encoders write: lofty 0.22 mishandles a stream whose
    // only metadata block is STREAMINFO (it leaves the "last block" flag set on it).
    out.push(0x81); // last metadata block, PADDING
    out.extend_from_slice(&[0, 0, FLAC_PADDING as u8]);
    out.extend_from_slice(&[0; FLAC_PADDING]);
    out.extend_from_slice(&frames);
    out
}

/// A PCM WAV file (little-endian, interleaved).
pub(crate) fn encode_wav(channels: &[Vec<i32>], rate: u32, bits: u8) -> Vec<u8> {
    let total = channels.first().map_or(0, Vec::len);
    let bytes_per_sample = usize::from(bits / 8);
    let block_align = channels.len() * bytes_per_sample;
    let data_len = total * block_align;
    let mut out = Vec::with_capacity(44 + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((36 + data_len) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&(channels.len() as u16).to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * block_align as u32).to_le_bytes());
    out.extend_from_slice(&(block_align as u16).to_le_bytes());
    out.extend_from_slice(&u16::from(bits).to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data_len as u32).to_le_bytes());
    for i in 0..total {
        for channel in channels {
            out.extend_from_slice(&channel[i].to_le_bytes()[..bytes_per_sample]);
        }
    }
    out
}

/// A small RGB PNG (a diagonal gradient), stored uncompressed.
pub(crate) fn cover_png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.push((x * 255 / width.max(1)) as u8);
            raw.push((y * 255 / height.max(1)) as u8);
            raw.push(0x60);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in chunks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == chunks.len())); // BFINAL, stored
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(&data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    png
}

#[cfg(test)]
mod tests;
