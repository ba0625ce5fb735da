// The journey flow canvas: nodes as positioned divs, edges as SVG curves, all in one pannable, zoomable world.
// Geometry (node width, header, port rows) matches engine/journeys/layout.py.
const NODE_W = 220;
const HEADER_H = 60;
const COUNTS_H = 24;
const ROW_H = 22;
const ENTRY = "__entry__";
const MIN_ZOOM = 0.05;
const READABLE = 0.8; // the automatic view never zooms out further: node names stay legible
const COUNT_H = 16; // edge count pill: height, width per character and padding (px, matches the CSS)
const COUNT_CHAR_W = 7;
const COUNT_PAD = 10;
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
let uid = 0;

export default {
  template: `
  <div class="fc-root" ref="root" tabindex="0">
    <div v-if="!readonly" class="fc-palette">
      <div class="fc-palette-title">Steps</div>
      <div v-for="p in palette" :key="p.type" class="fc-palette-item" draggable="true"
           :data-palette-type="p.type" :title="'Drag onto the canvas (or click, or Enter) to add a ' + p.label + ' step'"
           tabindex="0" role="button" @keydown.enter.prevent="addAtCenter(p.type)"
           @dragstart="onPaletteDrag($event, p.type)" @click="addAtCenter(p.type)">
        <span class="material-icons fc-palette-icon" :style="{ background: p.color }">{{ p.icon }}</span>
        <span>{{ p.label }}</span>
      </div>
    </div>
    <div class="fc-surface" ref="surface" data-canvas :data-zoom="zoom.toFixed(3)"
         @pointerdown="onSurfaceDown" @wheel.prevent="onWheel" @dragover.prevent="onDragOver" @drop.prevent="onDrop">
      <div class="fc-world" :style="{ transform: 'translate(' + pan.x + 'px,' + pan.y + 'px) scale(' + zoom + ')' }">
        <svg class="fc-edges" :style="svgStyle" :viewBox="svgBox.join(' ')">
          <defs>
            <!-- userSpaceOnUse: the arrowhead keeps its size on thick (highlighted, hovered) edges -->
            <marker :id="markerId" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" markerHeight="12"
                    markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="fc-arrow"/></marker>
            <marker :id="markerId + '-hl'" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="12" markerHeight="12"
                    markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="fc-arrow-hl"/></marker>
          </defs>
          <g v-for="e in edgeShapes" :key="e.key" class="fc-edge"
             :class="{ 'fc-edge-selected': e.key === selEdge, 'fc-edge-hl': e.hl }"
             :data-source="e.source" :data-target="e.target" :data-branch="e.branch">
            <path :d="e.d" class="fc-edge-hit" @pointerdown.stop="onEdgeDown($event, e)"/>
            <path :d="e.d" class="fc-edge-line" :marker-end="'url(#' + markerId + (e.hl ? '-hl' : '') + ')'"/>
          </g>
          <path v-if="temp" :d="curve(temp.x1, temp.y1, temp.x2, temp.y2)" class="fc-edge-temp"/>
        </svg>
        <div v-for="n in nodeShapes" :key="n.id" class="fc-node"
             :class="{ 'fc-selected': sel.includes(n.id), 'fc-error': n.errors.length, 'fc-warning': !n.errors.length && n.warnings.length,
                       'fc-hl': n.hl, 'fc-entry': n.id === ENTRY, 'fc-readonly': readonly }"
             :style="{ left: n.x + 'px', top: n.y + 'px', width: NODE_W + 'px', height: n.h + 'px', '--fc-color': n.color }"
             :data-step-id="n.id" :data-type="n.type" @pointerdown.stop="onNodeDown($event, n)">
          <div v-if="n.input" class="fc-port fc-port-in" data-port="in" :style="{ top: (HEADER_H / 2 - 6) + 'px' }"></div>
          <div class="fc-head">
            <span class="material-icons fc-icon">{{ n.icon }}</span>
            <div class="fc-text">
              <div class="fc-name" :title="n.name">{{ n.name }}</div>
              <div class="fc-summary" :title="n.summary">{{ n.summary }}</div>
            </div>
          </div>
          <div v-if="n.errors.length" class="fc-badge fc-badge-error" data-badge="error"
               :title="n.errors.join('\\n')">{{ n.errors.length }}</div>
          <div v-else-if="n.warnings.length" class="fc-badge fc-badge-warning" data-badge="warning"
               :title="n.warnings.join('\\n')">{{ n.warnings.length }}</div>
          <div v-if="counts" class="fc-counts">
            <span class="fc-count-now" data-count="current">{{ n.current }}</span><span>now</span>
            <span class="fc-count-passed" data-count="passed">{{ n.passed }}</span><span>passed</span>
          </div>
          <template v-for="p in n.outs" :key="p.key">
            <div v-if="p.branch !== null" class="fc-row" :style="{ top: (p.y - n.y - ROW_H / 2) + 'px' }">
              <span class="fc-row-label" :title="p.branch">{{ p.branch }}</span>
            </div>
            <div class="fc-port fc-port-out" data-port="out" :data-branch="p.branch"
                 :style="{ top: (p.y - n.y - 6) + 'px' }" @pointerdown.stop="onPortDown($event, n, p)"></div>
          </template>
        </div>
        <!-- Edge counts sit above the nodes (never cut off by one) and are nudged apart so none overlap. -->
        <div v-for="c in countLabels" :key="c.key" class="fc-edge-count" :class="{ 'fc-edge-count-hl': c.hl }"
             :style="{ left: c.x + 'px', top: c.y + 'px' }" :data-edge-count="c.key">{{ c.text }}</div>
        <div v-if="band" class="fc-band"
             :style="{ left: Math.min(band.x1, band.x2) + 'px', top: Math.min(band.y1, band.y2) + 'px',
                       width: Math.abs(band.x2 - band.x1) + 'px', height: Math.abs(band.y2 - band.y1) + 'px' }"></div>
      </div>
      <div class="fc-controls" @pointerdown.stop>
        <button type="button" title="Zoom in" data-action="zoom-in" @click="zoomBy(1.2)"><span class="material-icons">add</span></button>
        <button type="button" title="Zoom out" data-action="zoom-out" @click="zoomBy(1 / 1.2)"><span class="material-icons">remove</span></button>
        <button type="button" title="Fit to view" data-action="fit" @click="fit()"><span class="material-icons">fit_screen</span></button>
      </div>
      <div v-if="!readonly && nodes.length <= 1" class="fc-hint">Drag a step from the palette onto the canvas</div>
    </div>
  </div>`,
  props: {
    nodes: { type: Array, default: () => [] },
    edges: { type: Array, default: () => [] },
    palette: { type: Array, default: () => [] },
    readonly: { type: Boolean, default: false },
    selected: { type: Array, default: () => [] },
    highlight: { type: Object, default: () => ({ steps: [], edges: [] }) },
    counts: { type: Object, default: null },
    edgeCounts: { type: Object, default: () => ({}) },
  },
  data() {
    uid += 1;
    return {
      NODE_W, HEADER_H, ROW_H, ENTRY,
      markerId: "fc-arrow-" + uid,
      pan: { x: 40, y: 20 },
      zoom: 1,
      local: {},
      sel: [...this.selected],
      lastSelected: JSON.stringify(this.selected),
      selEdge: null,
      drag: null,
      temp: null,
      band: null,
      fitted: false,
      viewTouched: false,
    };
  },
  computed: {
    nodeShapes() {
      const counts = this.counts;
      const hl = new Set(this.highlight.steps || []);
      return this.nodes.map((n) => {
        const pos = this.local[n.id] || n;
        const head = HEADER_H + (counts ? COUNTS_H : 0);
        const labelled = n.ports.some((p) => p.branch !== null);
        const outs = n.ports.map((p, i) => ({
          key: p.key, branch: p.branch,
          x: pos.x + NODE_W, y: labelled ? pos.y + head + ROW_H * i + ROW_H / 2 : pos.y + HEADER_H / 2,
        }));
        const h = labelled ? head + ROW_H * n.ports.length + 6 : head;
        const c = counts ? counts[n.id] || { current: 0, passed: 0 } : null;
        return { ...n, x: pos.x, y: pos.y, h, outs, hl: hl.has(n.id),
                 current: c ? c.current : 0, passed: c ? c.passed : 0 };
      });
    },
    byId() {
      return Object.fromEntries(this.nodeShapes.map((n) => [n.id, n]));
    },
    edgeShapes() {
      const hl = new Set(this.highlight.edges || []);
      const out = [];
      for (const e of this.edges) {
        const s = this.byId[e.source];
        const t = this.byId[e.target];
        if (!s || !t) continue;
        const port = s.outs.find((p) => p.key === e.port) || { x: s.x + NODE_W, y: s.y + HEADER_H / 2 };
        const x2 = t.x - 2;
        const y2 = t.y + HEADER_H / 2;
        const mid = this.midpoint(port.x, port.y, x2, y2);
        const countKey = e.source + "->" + e.target;
        out.push({
          ...e, d: this.curve(port.x, port.y, x2, y2), lx: mid.x, ly: mid.y, countKey, hl: hl.has(countKey),
          count: this.counts ? this.edgeCounts[countKey] || 0 : null,
        });
      }
      return out;
    },
    countLabels() {
      // Branch names are on the source node's port rows; an edge carries only its count, centred on the
      // curve, and a label that would overlap one placed before it moves down below it.
      const placed = [];
      const shapes = this.edgeShapes.filter((e) => e.count !== null).sort((a, b) => a.ly - b.ly || a.lx - b.lx);
      for (const e of shapes) {
        const text = e.count.toLocaleString("en-US");
        const w = COUNT_CHAR_W * text.length + COUNT_PAD;
        let y = e.ly - COUNT_H / 2;
        let moved = true;
        while (moved) {  // y only grows, so this ends
          moved = false;
          for (const p of placed) {
            if (Math.abs(p.cx - e.lx) < (p.w + w) / 2 && y < p.y + COUNT_H && y + COUNT_H > p.y) {
              y = p.y + COUNT_H + 1;
              moved = true;
            }
          }
        }
        placed.push({ key: e.countKey, text, hl: e.hl, cx: e.lx, x: e.lx - w / 2, y, w });
      }
      return placed;
    },
    svgBox() {
      let minX = 0, minY = 0, maxX = 1000, maxY = 800;
      for (const n of this.nodeShapes) {
        minX = Math.min(minX, n.x); minY = Math.min(minY, n.y);
        maxX = Math.max(maxX, n.x + NODE_W); maxY = Math.max(maxY, n.y + n.h);
      }
      return [minX - 600, minY - 600, maxX - minX + 1200, maxY - minY + 1200];
    },
    svgStyle() {
      const [x, y, w, h] = this.svgBox;
      return { left: x + "px", top: y + "px", width: w + "px", height: h + "px" };
    },
  },
  watch: {
    nodes() {
      // Keep the positions of nodes being dragged; otherwise the server's positions win.
      if (!this.drag || this.drag.kind !== "node") this.local = {};
      if (!this.fitted && this.nodes.length > 1) this.$nextTick(() => this.fit(true));
    },
    selected(value) {
      const text = JSON.stringify(value);
      if (text === this.lastSelected) return;
      this.lastSelected = text;
      this.sel = [...value];
      if (value.length) this.$nextTick(() => this.ensureVisible(value[0]));
    },
  },
  mounted() {
    this.keyHandler = (e) => this.onKey(e);
    window.addEventListener("keydown", this.keyHandler);
    // A resize (the side panel opening or closing) refits the view only while the whole journey still fits
    // at a readable zoom and the user has not panned or zoomed; otherwise the zoom stays as it is and the
    // selected step is kept in view (a docked panel never shrinks the journey to an unreadable size).
    this.resizeObserver = new ResizeObserver(() => {
      if (this.nodes.length > 1 && !this.viewTouched && this.fitZoom() >= READABLE) this.fit(true);
      if (this.sel.length) this.ensureVisible(this.sel[0]);
    });
    this.resizeObserver.observe(this.$refs.surface);
  },
  beforeUnmount() {
    window.removeEventListener("keydown", this.keyHandler);
    this.resizeObserver.disconnect();
    this.stopWindowDrag();
  },
  methods: {
    bend(x1, x2) {
      // Horizontal reach of the control points: a forward edge stays between its nodes however close they
      // are (no loops in a tight gap); a backward edge swings out so its arrow still enters from the left.
      return x2 >= x1 ? Math.max(12, (x2 - x1) / 2) : Math.max(40, (x1 - x2) / 2);
    },
    curve(x1, y1, x2, y2) {
      const dx = this.bend(x1, x2);
      return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
    },
    midpoint(x1, y1, x2, y2) {
      const dx = this.bend(x1, x2);
      // Cubic Bezier at t = 0.5 with control points (x1 + dx, y1) and (x2 - dx, y2).
      return { x: (x1 + 3 * (x1 + dx) + 3 * (x2 - dx) + x2) / 8, y: (y1 + 3 * y1 + 3 * y2 + y2) / 8 };
    },
    toWorld(clientX, clientY) {
      const r = this.$refs.surface.getBoundingClientRect();
      return { x: (clientX - r.left - this.pan.x) / this.zoom, y: (clientY - r.top - this.pan.y) / this.zoom };
    },
    setSelection(ids) {
      this.sel = ids;
      this.selEdge = null;
      this.lastSelected = JSON.stringify(ids);
      this.$emit("selection", { ids });
    },
    // ---- window-level dragging (pointermove/up keep working outside the surface) ----
    startWindowDrag(drag) {
      this.drag = drag;
      this.moveHandler = (e) => this.onMove(e);
      this.upHandler = (e) => this.onUp(e);
      window.addEventListener("pointermove", this.moveHandler);
      window.addEventListener("pointerup", this.upHandler);
    },
    stopWindowDrag() {
      if (this.moveHandler) window.removeEventListener("pointermove", this.moveHandler);
      if (this.upHandler) window.removeEventListener("pointerup", this.upHandler);
      this.moveHandler = this.upHandler = null;
    },
    onNodeDown(e, n) {
      if (e.button !== 0) return;
      this.$refs.root.focus({ preventScroll: true });
      let ids = this.sel;
      if (e.shiftKey || e.ctrlKey || e.metaKey) {
        ids = ids.includes(n.id) ? ids.filter((id) => id !== n.id) : [...ids, n.id];
      } else if (!ids.includes(n.id)) {
        ids = [n.id];
      }
      if (JSON.stringify(ids) !== JSON.stringify(this.sel) || this.selEdge) this.setSelection(ids);
      const movable = this.readonly ? [] : ids.filter((id) => id !== ENTRY && this.byId[id]);
      const orig = Object.fromEntries(movable.map((id) => [id, { x: this.byId[id].x, y: this.byId[id].y }]));
      this.startWindowDrag({ kind: "node", ids: movable, orig, cx: e.clientX, cy: e.clientY, moved: false, clicked: n.id,
                             modifier: e.shiftKey || e.ctrlKey || e.metaKey });
    },
    onPortDown(e, n, p) {
      if (e.button !== 0 || this.readonly) return;
      const w = this.toWorld(e.clientX, e.clientY);
      this.temp = { x1: p.x, y1: p.y, x2: w.x, y2: w.y };
      this.startWindowDrag({ kind: "connect", source: n.id, port: p.key, cx: e.clientX, cy: e.clientY, moved: false });
    },
    onEdgeDown(e, edge) {
      if (e.button !== 0) return;
      this.$refs.root.focus({ preventScroll: true });
      if (this.readonly) return;
      this.startWindowDrag({ kind: "edge", edge, cx: e.clientX, cy: e.clientY, moved: false });
    },
    onSurfaceDown(e) {
      if (e.button !== 0) return;
      this.$refs.root.focus({ preventScroll: true });
      if (e.shiftKey && !this.readonly) {
        const w = this.toWorld(e.clientX, e.clientY);
        this.band = { x1: w.x, y1: w.y, x2: w.x, y2: w.y };
        this.startWindowDrag({ kind: "band", cx: e.clientX, cy: e.clientY, moved: false });
      } else {
        this.startWindowDrag({ kind: "pan", cx: e.clientX, cy: e.clientY, px: this.pan.x, py: this.pan.y, moved: false });
      }
    },
    onMove(e) {
      const d = this.drag;
      if (!d) return;
      const dx = e.clientX - d.cx;
      const dy = e.clientY - d.cy;
      if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
      if (!d.moved) return;
      const w = this.toWorld(e.clientX, e.clientY);
      if (d.kind === "node") {
        const local = { ...this.local };
        for (const id of d.ids) local[id] = { x: d.orig[id].x + dx / this.zoom, y: d.orig[id].y + dy / this.zoom };
        this.local = local;
      } else if (d.kind === "pan") {
        this.pan = { x: d.px + dx, y: d.py + dy };
        this.viewTouched = true;
      } else if (d.kind === "connect") {
        this.temp = { ...this.temp, x2: w.x, y2: w.y };
      } else if (d.kind === "edge") {
        const s = this.byId[d.edge.source];
        const port = s && s.outs.find((p) => p.key === d.edge.port);
        if (port) this.temp = { x1: port.x, y1: port.y, x2: w.x, y2: w.y };
      } else if (d.kind === "band") {
        this.band = { ...this.band, x2: w.x, y2: w.y };
      }
    },
    nodeAt(clientX, clientY) {
      const el = document.elementFromPoint(clientX, clientY);
      const node = el && el.closest("[data-step-id]");
      return node && this.$el.contains(node) ? node.getAttribute("data-step-id") : null;
    },
    onUp(e) {
      const d = this.drag;
      this.stopWindowDrag();
      this.drag = null;
      if (!d) return;
      if (d.kind === "node") {
        if (d.moved && d.ids.length) {
          const moves = d.ids.map((id) => ({ id, x: Math.round(this.local[id].x), y: Math.round(this.local[id].y) }));
          this.$emit("nodes_moved", { moves });
        } else if (!d.moved && !d.modifier && this.sel.length > 1) {
          this.setSelection([d.clicked]);
        }
      } else if (d.kind === "connect") {
        this.temp = null;
        const target = this.nodeAt(e.clientX, e.clientY);
        if (target && target !== ENTRY && target !== d.source) {
          this.$emit("edge_connect", { source: d.source, port: d.port, target });
        }
      } else if (d.kind === "edge") {
        this.temp = null;
        if (!d.moved) {
          this.sel = [];
          this.lastSelected = "[]";
          this.$emit("selection", { ids: [] });
          this.selEdge = d.edge.key;
          return;
        }
        const target = this.nodeAt(e.clientX, e.clientY);
        if (target && target !== ENTRY && target !== d.edge.source) {
          if (target !== d.edge.target) this.$emit("edge_connect", { source: d.edge.source, port: d.edge.port, target });
        } else if (d.edge.source !== ENTRY) {
          this.$emit("edge_disconnect", { source: d.edge.source, port: d.edge.port });
        }
      } else if (d.kind === "pan" && !d.moved) {
        if (this.sel.length || this.selEdge) this.setSelection([]);
      } else if (d.kind === "band") {
        const b = this.band;
        this.band = null;
        const [x1, x2] = [Math.min(b.x1, b.x2), Math.max(b.x1, b.x2)];
        const [y1, y2] = [Math.min(b.y1, b.y2), Math.max(b.y1, b.y2)];
        const ids = this.nodeShapes
          .filter((n) => n.id !== ENTRY && n.x < x2 && n.x + NODE_W > x1 && n.y < y2 && n.y + n.h > y1)
          .map((n) => n.id);
        this.setSelection(ids);
      }
    },
    onWheel(e) {
      const r = this.$refs.surface.getBoundingClientRect();
      this.zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1, e.clientX - r.left, e.clientY - r.top);
    },
    zoomBy(factor, ax, ay) {
      const r = this.$refs.surface.getBoundingClientRect();
      const x = ax === undefined ? r.width / 2 : ax;
      const y = ay === undefined ? r.height / 2 : ay;
      const zoom = Math.min(2, Math.max(MIN_ZOOM, this.zoom * factor));
      this.viewTouched = true;
      // Keep the world point under (x, y) where it is.
      this.pan = { x: x - ((x - this.pan.x) / this.zoom) * zoom, y: y - ((y - this.pan.y) / this.zoom) * zoom };
      this.zoom = zoom;
    },
    bounds() {
      const minX = Math.min(...this.nodeShapes.map((n) => n.x));
      const minY = Math.min(...this.nodeShapes.map((n) => n.y));
      const maxX = Math.max(...this.nodeShapes.map((n) => n.x + NODE_W));
      const maxY = Math.max(...this.nodeShapes.map((n) => n.y + n.h));
      return { minX, minY, maxX, maxY };
    },
    fitZoom() {
      // The zoom at which every node fits the surface (at most 1), or 0 before the surface is laid out.
      const r = this.$refs.surface && this.$refs.surface.getBoundingClientRect();
      if (!r || !r.width || !this.nodeShapes.length) return 0;
      const b = this.bounds();
      return Math.max(MIN_ZOOM, Math.min(1, (r.width - 80) / (b.maxX - b.minX), (r.height - 80) / (b.maxY - b.minY)));
    },
    fit(readable = false) {
      // readable (the automatic view): never below READABLE zoom; a journey too big for that opens at its
      // start (the Entry at the left edge), centred vertically when its height fits.
      const r = this.$refs.surface && this.$refs.surface.getBoundingClientRect();
      if (!r || !r.width || !this.nodeShapes.length) return;
      this.fitted = true;
      this.viewTouched = false;
      const { minX, minY, maxX, maxY } = this.bounds();
      const zoom = this.fitZoom();
      if (readable && zoom < READABLE) {
        const entry = this.byId[ENTRY] || this.nodeShapes[0];
        const tall = (maxY - minY) * READABLE > r.height - 40;
        this.zoom = READABLE;
        this.pan = {
          x: 40 - minX * READABLE,
          y: tall ? r.height / 2 - (entry.y + entry.h / 2) * READABLE : (r.height - (maxY - minY) * READABLE) / 2 - minY * READABLE,
        };
        return;
      }
      this.zoom = zoom;
      this.pan = { x: (r.width - (maxX - minX) * zoom) / 2 - minX * zoom, y: (r.height - (maxY - minY) * zoom) / 2 - minY * zoom };
    },
    ensureVisible(id) {
      const n = this.byId[id];
      const r = this.$refs.surface && this.$refs.surface.getBoundingClientRect();
      if (!n || !r || !r.width) return;
      const pad = 24;
      const left = n.x * this.zoom + this.pan.x;
      const top = n.y * this.zoom + this.pan.y;
      const right = left + NODE_W * this.zoom;
      const bottom = top + n.h * this.zoom;
      let { x, y } = this.pan;
      if (right > r.width - pad) x -= right - (r.width - pad);
      if (left + (x - this.pan.x) < pad) x += pad - (left + (x - this.pan.x));
      if (bottom > r.height - pad) y -= bottom - (r.height - pad);
      if (top + (y - this.pan.y) < pad) y += pad - (top + (y - this.pan.y));
      this.pan = { x, y };
    },
    getView() {
      return { pan: this.pan, zoom: this.zoom };
    },
    // ---- palette ----
    onPaletteDrag(e, type) {
      e.dataTransfer.setData("application/x-journey-step", type);
      e.dataTransfer.setData("text/plain", type);
      e.dataTransfer.effectAllowed = "copy";
    },
    onDragOver(e) {
      e.dataTransfer.dropEffect = "copy";
    },
    onDrop(e) {
      if (this.readonly) return;
      const type = e.dataTransfer.getData("application/x-journey-step") || e.dataTransfer.getData("text/plain");
      if (!this.palette.some((p) => p.type === type)) return;
      const w = this.toWorld(e.clientX, e.clientY);
      this.$emit("step_drop", { type, x: Math.round(w.x - NODE_W / 2), y: Math.round(w.y - HEADER_H / 2) });
    },
    addAtCenter(type) {
      const r = this.$refs.surface.getBoundingClientRect();
      const w = this.toWorld(r.left + r.width / 2, r.top + r.height / 2);
      const shift = (this.nodes.length % 5) * 24;
      this.$emit("step_drop", { type, x: Math.round(w.x - NODE_W / 2 + shift), y: Math.round(w.y - HEADER_H / 2 + shift) });
    },
    // ---- keyboard ----
    onKey(e) {
      if (!this.$el.isConnected || this.$el.offsetParent === null) return;
      const target = e.target;
      const typing = target && target.closest && target.closest("input, textarea, select, [contenteditable='true']");
      if (e.key === "Escape") {
        this.$emit("escape_key");
        return;
      }
      if (typing || this.readonly) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = (e.key || "").toLowerCase();
      if (mod && key === "z") {
        e.preventDefault();
        this.$emit(e.shiftKey ? "redo_request" : "undo_request");
      } else if (mod && key === "y") {
        e.preventDefault();
        this.$emit("redo_request");
      } else if (ARROWS[e.key] && this.sel.some((id) => id !== ENTRY)) {
        e.preventDefault();
        const [dx, dy] = ARROWS[e.key].map((v) => v * (e.shiftKey ? 50 : 10));
        const moves = this.sel.filter((id) => id !== ENTRY && this.byId[id])
          .map((id) => ({ id, x: Math.round(this.byId[id].x + dx), y: Math.round(this.byId[id].y + dy) }));
        this.local = { ...this.local, ...Object.fromEntries(moves.map((m) => [m.id, { x: m.x, y: m.y }])) };
        this.$emit("nodes_moved", { moves });
      } else if (e.key === "Delete" || e.key === "Backspace") {
        if (this.selEdge) {
          const edge = this.edges.find((x) => x.key === this.selEdge);
          this.selEdge = null;
          if (edge && edge.source !== ENTRY) this.$emit("edge_disconnect", { source: edge.source, port: edge.port });
        } else {
          const ids = this.sel.filter((id) => id !== ENTRY);
          if (ids.length) this.$emit("steps_delete", { ids });
        }
      }
    },
  },
};
