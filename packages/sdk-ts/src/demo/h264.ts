import { BitWriter } from './bits.js';

/**
 * A minimal H.264 (Baseline profile) encoder for demo videos: every macroblock that changed is sent as I_PCM
 * (raw samples, no transform or entropy coding), every unchanged one is skipped in a P frame. Any decoder
 * plays it, and the code stays small enough to read; a real encoder would be a dependency we do not need.
 */

/** One frame in YUV 4:2:0, 8-bit: width×height luma, then (width/2)×(height/2) Cb and Cr planes. */
export interface YuvFrame {
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
}

export interface H264Stream {
  sps: Uint8Array;
  pps: Uint8Array;
  /** One NAL unit (one slice) per frame, without start codes or length prefixes. */
  frames: Uint8Array[];
  keyframes: boolean[];
}

const LOG2_MAX_FRAME_NUM = 4;
const NAL_SLICE = 1;
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const I_PCM_IN_I_SLICE = 25;
const I_PCM_IN_P_SLICE = 30; // P-slice mb_type numbering puts the intra types after the 5 inter types.

export function encodeH264(width: number, height: number, frames: YuvFrame[]): H264Stream {
  if (width % 16 !== 0 || height % 16 !== 0) throw new Error('width and height must be multiples of 16');
  const mbWidth = width / 16;
  const mbHeight = height / 16;
  const out: H264Stream = { sps: sps(mbWidth, mbHeight), pps: pps(), frames: [], keyframes: [] };
  let previous: YuvFrame | undefined;
  frames.forEach((frame, index) => {
    const key = previous === undefined;
    const w = new BitWriter();
    sliceHeader(w, key, index);
    for (let mbY = 0, skipRun = 0; mbY < mbHeight; mbY++) {
      for (let mbX = 0; mbX < mbWidth; mbX++) {
        const last = mbY === mbHeight - 1 && mbX === mbWidth - 1;
        if (!key && previous && sameMacroblock(previous, frame, width, mbX, mbY)) {
          skipRun++;
          if (last) w.ue(skipRun);
          continue;
        }
        if (!key) w.ue(skipRun);
        skipRun = 0;
        w.ue(key ? I_PCM_IN_I_SLICE : I_PCM_IN_P_SLICE).alignZero();
        w.bytes(pcmSamples(frame, width, mbX, mbY));
      }
    }
    w.trailing();
    out.frames.push(nal(key ? NAL_IDR : NAL_SLICE, 3, w.toBytes()));
    out.keyframes.push(key);
    previous = frame;
  });
  return out;
}

function sps(mbWidth: number, mbHeight: number): Uint8Array {
  const w = new BitWriter();
  w.bits(66, 8); // profile_idc: Baseline
  w.bits(0b11000000, 8); // constraint_set0/1: also Constrained Baseline / Main compatible
  w.bits(30, 8); // level_idc 3.0
  w.ue(0); // seq_parameter_set_id
  w.ue(LOG2_MAX_FRAME_NUM - 4);
  w.ue(2); // pic_order_cnt_type 2: output order = decode order, nothing to signal per slice
  w.ue(1); // max_num_ref_frames
  w.bit(0); // gaps_in_frame_num_value_allowed_flag
  w.ue(mbWidth - 1);
  w.ue(mbHeight - 1);
  w.bit(1); // frame_mbs_only_flag
  w.bit(1); // direct_8x8_inference_flag
  w.bit(0); // frame_cropping_flag
  w.bit(1); // vui_parameters_present_flag: only to say "no reordering", so players show frames at once
  w.bit(0).bit(0).bit(0).bit(0).bit(0).bit(0).bit(0).bit(0); // aspect, overscan, signal type, chroma loc, timing, nal/vcl hrd, pic_struct
  w.bit(1); // bitstream_restriction_flag
  w.bit(1); // motion_vectors_over_pic_boundaries_flag
  w.ue(0).ue(0).ue(16).ue(16); // max_bytes_per_pic_denom, max_bits_per_mb_denom, log2_max_mv_length h/v
  w.ue(0); // max_num_reorder_frames
  w.ue(1); // max_dec_frame_buffering
  w.trailing();
  return nal(NAL_SPS, 3, w.toBytes());
}

function pps(): Uint8Array {
  const w = new BitWriter();
  w.ue(0).ue(0); // pic_parameter_set_id, seq_parameter_set_id
  w.bit(0); // entropy_coding_mode_flag: CAVLC
  w.bit(0); // bottom_field_pic_order_in_frame_present_flag
  w.ue(0); // num_slice_groups_minus1
  w.ue(0).ue(0); // num_ref_idx_l0/l1_default_active_minus1
  w.bit(0).bits(0, 2); // weighted_pred_flag, weighted_bipred_idc
  w.se(0).se(0).se(0); // pic_init_qp/qs_minus26, chroma_qp_index_offset
  w.bit(1); // deblocking_filter_control_present_flag: lets slices turn deblocking off
  w.bit(0); // constrained_intra_pred_flag
  w.bit(0); // redundant_pic_cnt_present_flag
  w.trailing();
  return nal(NAL_PPS, 3, w.toBytes());
}

function sliceHeader(w: BitWriter, key: boolean, index: number): void {
  w.ue(0); // first_mb_in_slice
  w.ue(key ? 7 : 5); // slice_type: I or P, the same for the whole picture
  w.ue(0); // pic_parameter_set_id
  w.bits(key ? 0 : index % (1 << LOG2_MAX_FRAME_NUM), LOG2_MAX_FRAME_NUM); // frame_num
  if (key) w.ue(0); // idr_pic_id
  if (!key) {
    w.bit(0); // num_ref_idx_active_override_flag
    w.bit(0); // ref_pic_list_modification_flag_l0
  }
  if (key)
    w.bit(0).bit(0); // no_output_of_prior_pics_flag, long_term_reference_flag
  else w.bit(0); // adaptive_ref_pic_marking_mode_flag
  w.se(0); // slice_qp_delta
  // Deblocking off: skipped macroblocks must stay exact copies, and PCM ones are exact already.
  w.ue(1); // disable_deblocking_filter_idc
}

function sameMacroblock(a: YuvFrame, b: YuvFrame, width: number, mbX: number, mbY: number): boolean {
  for (let row = 0; row < 16; row++) {
    const start = (mbY * 16 + row) * width + mbX * 16;
    for (let i = start; i < start + 16; i++) if (a.y[i] !== b.y[i]) return false;
  }
  const cw = width / 2;
  for (let row = 0; row < 8; row++) {
    const start = (mbY * 8 + row) * cw + mbX * 8;
    for (let i = start; i < start + 8; i++) if (a.u[i] !== b.u[i] || a.v[i] !== b.v[i]) return false;
  }
  return true;
}

/** 256 luma then 64 Cb and 64 Cr samples of one macroblock, in raster order (the I_PCM layout). */
function pcmSamples(frame: YuvFrame, width: number, mbX: number, mbY: number): Uint8Array {
  const out = new Uint8Array(384);
  let o = 0;
  for (let row = 0; row < 16; row++) {
    const start = (mbY * 16 + row) * width + mbX * 16;
    out.set(frame.y.subarray(start, start + 16), o);
    o += 16;
  }
  const cw = width / 2;
  for (const plane of [frame.u, frame.v]) {
    for (let row = 0; row < 8; row++) {
      const start = (mbY * 8 + row) * cw + mbX * 8;
      out.set(plane.subarray(start, start + 8), o);
      o += 8;
    }
  }
  return out;
}

/** NAL header plus the payload with emulation-prevention bytes (no 00 00 0x inside a NAL unit). */
function nal(type: number, refIdc: number, rbsp: Uint8Array): Uint8Array {
  const out: number[] = [(refIdc << 5) | type];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}
