;; ndp's Extism kernel: the memory half of `extism:host/env`, written for this
;; repository and linked as its own instance next to every plugin instance.
;;
;; Layout of the kernel's own linear memory (never the plugin's):
;;   [0, 64)        reserved: handles below 64 are never valid, loads read 0
;;   [64, $pos)     blocks, bump-allocated, 8-byte aligned
;; Each block is a 16-byte header followed by its data; the handle points at
;; the data.  Header: size (i64) at h-16, tag (i64) at h-8, where the tag of a
;; live block is  size ^ (h * 0x9E3779B97F4A7C15) ^ LIVE.  A freed block has
;; tag 0.  `reset` zeroes everything it handed out, so handles from before a
;; reset read as length 0.
;;
;; Rules kept (extism-abi.md §1.6): handle 0 is null and alloc(0) = 0; length
;; is exact for live block starts and 0 for anything else; loads and stores
;; never trap and never check liveness (out of range: load 0, store ignored);
;; freed addresses are never reused within a call; free is idempotent; the
;; input is a normal block; output_set takes (h, len) verbatim; an allocation
;; that cannot grow memory traps (the host reports it as out of memory).
(module
  (memory (export "memory") 1)
  (global $pos (mut i64) (i64.const 64))
  (global $input_off (mut i64) (i64.const 0))
  (global $input_len (mut i64) (i64.const 0))
  (global $output_off (mut i64) (i64.const 0))
  (global $output_len (mut i64) (i64.const 0))
  (global $error (mut i64) (i64.const 0))

  (func $mem_end (result i64)
    (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))

  (func $tag (param $h i64) (param $size i64) (result i64)
    (i64.xor
      (i64.xor (local.get $size) (i64.mul (local.get $h) (i64.const 0x9E3779B97F4A7C15)))
      (i64.const 0x6E64702D6B726E6C)))

  (func $alloc (export "alloc") (param $n i64) (result i64)
    (local $h i64) (local $end i64) (local $need i64)
    (if (i64.eqz (local.get $n)) (then (return (i64.const 0))))
    ;; more than 4 GiB can never fit in a 32-bit memory
    (if (i64.gt_u (local.get $n) (i64.const 0xFFFF0000)) (then unreachable))
    (local.set $h (i64.add (global.get $pos) (i64.const 16)))
    (local.set $end
      (i64.and (i64.add (i64.add (local.get $h) (local.get $n)) (i64.const 7)) (i64.const -8)))
    (if (i64.gt_u (local.get $end) (call $mem_end))
      (then
        (local.set $need
          (i64.shr_u (i64.add (i64.sub (local.get $end) (call $mem_end)) (i64.const 65535)) (i64.const 16)))
        (if (i32.eq (memory.grow (i32.wrap_i64 (local.get $need))) (i32.const -1))
          (then unreachable))))
    (i64.store (i32.wrap_i64 (i64.sub (local.get $h) (i64.const 16))) (local.get $n))
    (i64.store (i32.wrap_i64 (i64.sub (local.get $h) (i64.const 8)))
      (call $tag (local.get $h) (local.get $n)))
    (global.set $pos (local.get $end))
    (local.get $h))

  (func $length (export "length") (param $h i64) (result i64)
    (local $size i64)
    (if (i32.or
          (i32.or (i64.lt_u (local.get $h) (i64.const 80))
                  (i64.ge_u (local.get $h) (global.get $pos)))
          (i64.ne (i64.and (local.get $h) (i64.const 7)) (i64.const 0)))
      (then (return (i64.const 0))))
    (local.set $size (i64.load (i32.wrap_i64 (i64.sub (local.get $h) (i64.const 16)))))
    (if (i64.ne (i64.load (i32.wrap_i64 (i64.sub (local.get $h) (i64.const 8))))
                (call $tag (local.get $h) (local.get $size)))
      (then (return (i64.const 0))))
    (if (i64.gt_u (local.get $size) (i64.sub (global.get $pos) (local.get $h)))
      (then (return (i64.const 0))))
    (local.get $size))

  (func (export "length_unsafe") (param $h i64) (result i64)
    (call $length (local.get $h)))

  (func (export "free") (param $h i64)
    (if (i64.eqz (call $length (local.get $h))) (then (return)))
    (i64.store (i32.wrap_i64 (i64.sub (local.get $h) (i64.const 8))) (i64.const 0))
    (if (i64.eq (local.get $h) (global.get $input_off))
      (then (global.set $input_len (i64.const 0)))))

  (func (export "load_u8") (param $p i64) (result i32)
    (if (result i32)
      (i32.and (i64.ge_u (local.get $p) (i64.const 64))
               (i64.lt_u (local.get $p) (call $mem_end)))
      (then (i32.load8_u (i32.wrap_i64 (local.get $p))))
      (else (i32.const 0))))

  (func (export "load_u64") (param $p i64) (result i64)
    (if (result i64)
      (i32.and (i64.ge_u (local.get $p) (i64.const 64))
               (i64.le_u (local.get $p) (i64.sub (call $mem_end) (i64.const 8))))
      (then (i64.load (i32.wrap_i64 (local.get $p))))
      (else (i64.const 0))))

  (func (export "store_u8") (param $p i64) (param $v i32)
    (if (i32.and (i64.ge_u (local.get $p) (i64.const 64))
                 (i64.lt_u (local.get $p) (call $mem_end)))
      (then (i32.store8 (i32.wrap_i64 (local.get $p)) (local.get $v)))))

  (func (export "store_u64") (param $p i64) (param $v i64)
    (if (i32.and (i64.ge_u (local.get $p) (i64.const 64))
                 (i64.le_u (local.get $p) (i64.sub (call $mem_end) (i64.const 8))))
      (then (i64.store (i32.wrap_i64 (local.get $p)) (local.get $v)))))

  (func (export "input_length") (result i64) (global.get $input_len))
  (func (export "input_offset") (result i64)
    (if (result i64) (i64.eqz (global.get $input_len))
      (then (i64.const 0)) (else (global.get $input_off))))

  (func (export "input_load_u8") (param $i i64) (result i32)
    (if (result i32) (i64.lt_u (local.get $i) (global.get $input_len))
      (then (i32.load8_u (i32.wrap_i64 (i64.add (global.get $input_off) (local.get $i)))))
      (else (i32.const 0))))

  (func (export "input_load_u64") (param $i i64) (result i64)
    (if (result i64)
      (i32.and (i64.ge_u (global.get $input_len) (i64.const 8))
               (i64.le_u (local.get $i) (i64.sub (global.get $input_len) (i64.const 8))))
      (then (i64.load (i32.wrap_i64 (i64.add (global.get $input_off) (local.get $i)))))
      (else (i64.const 0))))

  ;; in range: [64, $pos) for the first and last byte of (h, len)
  (func $in_heap (param $h i64) (param $len i64) (result i32)
    (i32.and
      (i32.and (i64.ge_u (local.get $h) (i64.const 64))
               (i64.le_u (local.get $h) (global.get $pos)))
      (i64.le_u (local.get $len) (i64.sub (global.get $pos) (local.get $h)))))

  (func (export "input_set") (param $h i64) (param $len i64)
    (if (i32.and (i32.eqz (i64.eqz (local.get $h)))
                 (call $in_heap (local.get $h) (local.get $len)))
      (then (global.set $input_off (local.get $h)) (global.set $input_len (local.get $len)))))

  ;; Like Extism's kernel, an out-of-range (h, len) is ignored: output_set(0, 0) does not
  ;; clear an earlier output.
  (func (export "output_set") (param $h i64) (param $len i64)
    (if (call $in_heap (local.get $h) (local.get $len))
      (then (global.set $output_off (local.get $h)) (global.set $output_len (local.get $len)))))

  (func (export "output_offset") (result i64) (global.get $output_off))
  (func (export "output_length") (result i64) (global.get $output_len))

  (func (export "error_set") (param $h i64)
    (if (i64.eqz (local.get $h)) (then (global.set $error (i64.const 0)) (return)))
    (if (call $in_heap (local.get $h) (i64.const 1))
      (then (global.set $error (local.get $h)))))

  (func (export "error_get") (result i64) (global.get $error))

  (func (export "reset")
    (memory.fill (i32.const 64) (i32.const 0)
      (i32.wrap_i64 (i64.sub (global.get $pos) (i64.const 64))))
    (global.set $pos (i64.const 64))
    (global.set $input_off (i64.const 0))
    (global.set $input_len (i64.const 0))
    (global.set $output_off (i64.const 0))
    (global.set $output_len (i64.const 0))
    (global.set $error (i64.const 0)))

  (func (export "memory_bytes") (result i64) (call $mem_end))

  ;; Host-side helper: bytes handed out since the last reset (the heap's high end).
  (func (export "nd_used") (result i64) (global.get $pos))

  ;; Host-side helper: one call instead of alloc + input_set.
  (func (export "nd_input") (param $len i64) (result i64)
    (local $h i64)
    (local.set $h (call $alloc (local.get $len)))
    (global.set $input_off (local.get $h))
    (global.set $input_len (local.get $len))
    (local.get $h))
)
