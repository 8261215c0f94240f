/**
 * The lineage graph drawn as SVG and made usable: hovering or selecting a node highlights what is
 * upstream and downstream of it; the wheel, a drag, the toolbar and + / - / 0 / arrow keys zoom and
 * pan; nodes are one tab stop (a roving tabindex) and the arrow keys walk them along edges (←
 * upstream, → downstream) and within a layer (↑ ↓); Enter or a click opens what a node stands for.
 * Every label is set as text (textContent), never parsed; colours are CSS classes. Browser code only.
 */
import { nodeDescription, reachable, type LineageGraph, type LineageNode, type LineageTarget } from '../../core/views/lineageGraphModel';
import type { GraphLayout } from './graphLayout';

const SVG = 'http://www.w3.org/2000/svg';
const MIN_SCALE = 0.05;
const MAX_SCALE = 4;
const KEY_PAN = 48;
const LABEL_CHARS = 27;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Cuts a label to what fits a node, keeping its start and its end (a path's file name matters most). */
export function fitLabel(text: string, max = LABEL_CHARS): string {
  if (text.length <= max) return text;
  const tail = Math.ceil((max - 1) / 2);
  return `${text.slice(0, max - 1 - tail)}…${text.slice(text.length - tail)}`;
}

const css = (s: string): string => s.replace(/[^a-z0-9-]/gi, '-').toLowerCase();

export interface GraphViewOptions {
  /** Opening a node (click, Enter); absent where nothing can be opened (the offline page). */
  open?: (target: LineageTarget) => void;
  /** Opening a "more…" node: ask for the graph with room for more nodes (absent offline). */
  showMore?: () => void;
  /** Says what is selected, for the page's live region. */
  announce: (text: string) => void;
}

interface Transform {
  k: number;
  x: number;
  y: number;
}

export class GraphView {
  /** The focusable region holding the drawing. */
  readonly element: HTMLDivElement;
  private readonly svgRoot: SVGSVGElement;
  private readonly viewport: SVGGElement;
  private graph: LineageGraph | undefined;
  private layout: GraphLayout | undefined;
  private nodeElements = new Map<string, SVGGElement>();
  private edgeElements: { from: string; to: string; element: SVGPathElement }[] = [];
  private transform: Transform = { k: 1, x: 0, y: 0 };
  private selected: string | undefined;
  private current: string | undefined;
  private drag: { pointerId: number; x: number; y: number; moved: boolean } | undefined;

  constructor(private readonly options: GraphViewOptions) {
    this.element = document.createElement('div');
    this.element.className = 'graph';
    this.element.tabIndex = 0;
    this.element.setAttribute('role', 'region');
    this.element.setAttribute('aria-roledescription', 'graph');
    this.svgRoot = svg('svg', { class: 'graph-svg', role: 'group', 'aria-label': 'Nodes' });
    const defs = svg('defs');
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }));
    defs.appendChild(marker);
    this.viewport = svg('g', { class: 'viewport' });
    this.svgRoot.append(defs, this.viewport);
    this.element.appendChild(this.svgRoot);
    this.listen();
  }

  /** Draws `graph` laid out as `layout`, replacing what was drawn; the view fits it. */
  show(graph: LineageGraph, layout: GraphLayout): void {
    this.graph = graph;
    this.layout = layout;
    this.nodeElements.clear();
    const edges = svg('g', { class: 'edges' });
    this.edgeElements = layout.edges.map((e) => {
      const d = e.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
      const element = svg('path', { class: 'edge', d, 'marker-end': 'url(#arrow)' });
      edges.appendChild(element);
      return { from: e.from, to: e.to, element };
    });
    const nodes = svg('g', { class: 'nodes' });
    for (const n of graph.nodes) {
      const box = layout.nodes.get(n.id);
      if (!box) continue;
      const g = svg('g', { class: 'node', transform: `translate(${box.x} ${box.y})`, tabindex: -1, role: 'button', 'data-id': n.id });
      g.append(svg('title'), svg('rect', { width: box.width, height: box.height, rx: 4 }), svg('text', { class: 'label', x: 10, y: 18 }), svg('text', { class: 'detail', x: 10, y: 34 }));
      this.nodeElements.set(n.id, g);
      this.fill(g, n);
      nodes.appendChild(g);
    }
    this.viewport.replaceChildren(edges, nodes);
    this.element.setAttribute('aria-label', `${graph.title}: ${graph.nodes.length} nodes, ${graph.edges.length} links. Arrow keys move between nodes, Enter opens one; + and - zoom.`);
    if (this.selected && !this.nodeElements.has(this.selected)) this.selected = undefined;
    this.setCurrent(this.current && this.nodeElements.has(this.current) ? this.current : (graph.focus ?? graph.nodes[0]?.id));
    this.highlight(this.selected);
    this.fit();
  }

  /** Takes new labels, details and states for the same nodes and edges (sameShape), keeping layout, zoom and selection. */
  update(graph: LineageGraph): void {
    this.graph = graph;
    for (const n of graph.nodes) {
      const g = this.nodeElements.get(n.id);
      if (g) this.fill(g, n);
    }
    this.highlight(this.selected);
  }

  private fill(g: SVGGElement, n: LineageNode): void {
    const [title, , label, detail] = g.children as unknown as [SVGTitleElement, SVGRectElement, SVGTextElement, SVGTextElement];
    const keep = [...g.classList].filter((c) => c === 'selected' || c === 'upstream' || c === 'downstream' || c === 'dimmed' || c === 'current');
    g.setAttribute('class', ['node', `kind-${n.kind}`, ...(n.state ? [`state-${css(n.state)}`] : []), ...(n.id === this.graph?.focus ? ['focus'] : []), ...keep].join(' '));
    title.textContent = `${n.label}${n.detail ? `\n${n.detail}` : ''}`;
    label.textContent = fitLabel(n.label);
    detail.textContent = fitLabel(n.detail, LABEL_CHARS + 4);
    g.setAttribute('aria-label', nodeDescription(n));
  }

  node(id: string): LineageNode | undefined {
    return this.graph?.nodes.find((n) => n.id === id);
  }

  /** Selects a node (its upstream and downstream stay highlighted), or clears the selection. */
  select(id: string | undefined): void {
    if (this.selected) this.nodeElements.get(this.selected)?.removeAttribute('aria-pressed');
    this.selected = id;
    if (id) this.nodeElements.get(id)?.setAttribute('aria-pressed', 'true');
    const counts = this.highlight(id);
    const n = id ? this.node(id) : undefined;
    this.options.announce(n && counts ? `Selected ${nodeDescription(n)}: ${counts.up} upstream, ${counts.down} downstream.` : 'Nothing selected.');
  }

  /** Marks `id`, what feeds it and what it feeds; everything else dims. Returns how many are upstream and downstream. */
  private highlight(id: string | undefined): { up: number; down: number } | undefined {
    const graph = this.graph;
    if (!graph || !id || !this.nodeElements.has(id)) {
      this.svgRoot.classList.remove('highlighting');
      for (const g of this.nodeElements.values()) g.classList.remove('selected', 'upstream', 'downstream', 'dimmed');
      for (const e of this.edgeElements) e.element.classList.remove('upstream', 'downstream', 'dimmed');
      return undefined;
    }
    const up = reachable(graph.edges, id, 'up');
    const down = reachable(graph.edges, id, 'down');
    this.svgRoot.classList.add('highlighting');
    for (const [nid, g] of this.nodeElements) {
      g.classList.toggle('selected', nid === id);
      g.classList.toggle('upstream', nid !== id && up.has(nid));
      g.classList.toggle('downstream', nid !== id && down.has(nid));
      g.classList.toggle('dimmed', !up.has(nid) && !down.has(nid));
    }
    for (const e of this.edgeElements) {
      const isUp = up.has(e.to) && up.has(e.from);
      const isDown = down.has(e.from) && down.has(e.to);
      e.element.classList.toggle('upstream', isUp);
      e.element.classList.toggle('downstream', isDown);
      e.element.classList.toggle('dimmed', !isUp && !isDown);
    }
    return { up: up.size - 1, down: down.size - 1 };
  }

  // -----------------------------------------------------------------------------------------------
  // Zoom and pan

  get scale(): number {
    return this.transform.k;
  }

  private apply(): void {
    const { k, x, y } = this.transform;
    this.viewport.setAttribute('transform', `translate(${x.toFixed(2)} ${y.toFixed(2)}) scale(${k.toFixed(4)})`);
  }

  /** Zooms by `factor` around (cx, cy) in the region's pixels (its centre by default). */
  zoomBy(factor: number, cx?: number, cy?: number): void {
    const rect = this.svgRoot.getBoundingClientRect();
    const px = cx ?? rect.width / 2;
    const py = cy ?? rect.height / 2;
    const k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.transform.k * factor));
    const f = k / this.transform.k;
    this.transform = { k, x: px - (px - this.transform.x) * f, y: py - (py - this.transform.y) * f };
    this.apply();
  }

  panBy(dx: number, dy: number): void {
    this.transform = { ...this.transform, x: this.transform.x + dx, y: this.transform.y + dy };
    this.apply();
  }

  /** Shows the whole graph (never enlarged past 1:1), centred. */
  fit(): void {
    const layout = this.layout;
    const rect = this.svgRoot.getBoundingClientRect();
    if (!layout || rect.width === 0 || rect.height === 0) {
      this.transform = { k: 1, x: 0, y: 0 };
    } else {
      const k = Math.max(MIN_SCALE, Math.min(1, rect.width / Math.max(1, layout.width), rect.height / Math.max(1, layout.height)));
      this.transform = { k, x: (rect.width - layout.width * k) / 2, y: (rect.height - layout.height * k) / 2 };
    }
    this.apply();
  }

  /** Pans so that the node is inside the view (keyboard traversal off screen). */
  private reveal(id: string): void {
    const box = this.layout?.nodes.get(id);
    if (!box) return;
    const rect = this.svgRoot.getBoundingClientRect();
    const { k, x, y } = this.transform;
    const left = box.x * k + x;
    const top = box.y * k + y;
    const right = left + box.width * k;
    const bottom = top + box.height * k;
    let dx = 0;
    let dy = 0;
    if (left < 0) dx = -left + 16;
    else if (right > rect.width) dx = rect.width - right - 16;
    if (top < 0) dy = -top + 16;
    else if (bottom > rect.height) dy = rect.height - bottom - 16;
    if (dx !== 0 || dy !== 0) this.panBy(dx, dy);
  }

  // -----------------------------------------------------------------------------------------------
  // Keyboard focus and traversal

  private setCurrent(id: string | undefined): void {
    if (this.current) {
      const old = this.nodeElements.get(this.current);
      old?.setAttribute('tabindex', '-1');
      old?.classList.remove('current');
    }
    this.current = id;
    const g = id ? this.nodeElements.get(id) : undefined;
    g?.setAttribute('tabindex', '0');
    g?.classList.add('current');
  }

  /** Moves keyboard focus to a node. */
  focusNode(id: string): void {
    const g = this.nodeElements.get(id);
    if (!g) return;
    this.setCurrent(id);
    this.reveal(id);
    g.focus({ preventScroll: true });
    this.highlight(id);
  }

  /** The node an arrow key leads to from `id`: along an edge (← →) or the nearest in the same layer (↑ ↓). */
  private neighbourFor(id: string, key: string): string | undefined {
    const graph = this.graph;
    const layout = this.layout;
    const here = layout?.nodes.get(id);
    if (!graph || !layout || !here) return undefined;
    const nearest = (ids: string[]) => {
      let best: string | undefined;
      let bestDistance = Infinity;
      for (const other of ids) {
        const b = layout.nodes.get(other);
        if (!b) continue;
        const d = Math.abs(b.y - here.y) + Math.abs(b.x - here.x) / 4;
        if (d < bestDistance) {
          bestDistance = d;
          best = other;
        }
      }
      return best;
    };
    if (key === 'ArrowRight') return nearest(graph.edges.filter((e) => e.from === id).map((e) => e.to));
    if (key === 'ArrowLeft') return nearest(graph.edges.filter((e) => e.to === id).map((e) => e.from));
    const sameLayer = [...layout.nodes].filter(([other, b]) => other !== id && Math.abs(b.x - here.x) < 1);
    const side = sameLayer.filter(([, b]) => (key === 'ArrowDown' ? b.y > here.y : b.y < here.y)).map(([other]) => other);
    return nearest(side);
  }

  private openNode(id: string): void {
    this.select(id);
    const n = this.node(id);
    if (n?.kind === 'more') this.options.showMore?.();
    else if (n?.target) this.options.open?.(n.target);
  }

  private listen(): void {
    this.svgRoot.addEventListener('pointerover', (ev) => {
      if (this.drag?.moved) return;
      const id = nodeIdOf(ev.target);
      if (id) this.highlight(id);
    });
    this.svgRoot.addEventListener('pointerout', (ev) => {
      const id = nodeIdOf(ev.target);
      if (id && nodeIdOf(ev.relatedTarget) !== id) this.highlight(this.selected);
    });
    this.svgRoot.addEventListener('click', (ev) => {
      if (this.drag?.moved) return;
      const id = nodeIdOf(ev.target);
      if (!id) {
        this.select(undefined);
        return;
      }
      this.setCurrent(id);
      this.openNode(id);
    });
    this.svgRoot.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const rect = this.svgRoot.getBoundingClientRect();
        this.zoomBy(Math.exp(-ev.deltaY * 0.0015), ev.clientX - rect.left, ev.clientY - rect.top);
      },
      { passive: false },
    );
    this.svgRoot.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0 || nodeIdOf(ev.target)) return;
      this.drag = { pointerId: ev.pointerId, x: ev.clientX, y: ev.clientY, moved: false };
      this.svgRoot.setPointerCapture(ev.pointerId);
    });
    this.svgRoot.addEventListener('pointermove', (ev) => {
      const d = this.drag;
      if (!d || d.pointerId !== ev.pointerId) return;
      const dx = ev.clientX - d.x;
      const dy = ev.clientY - d.y;
      if (!d.moved && Math.abs(dx) + Math.abs(dy) < 3) return;
      d.moved = true;
      this.svgRoot.classList.add('panning');
      this.panBy(dx, dy);
      d.x = ev.clientX;
      d.y = ev.clientY;
    });
    const endDrag = (ev: PointerEvent) => {
      if (this.drag?.pointerId !== ev.pointerId) return;
      this.svgRoot.classList.remove('panning');
      // Let the click that ends a drag see it was one, then forget it.
      setTimeout(() => (this.drag = undefined), 0);
    };
    this.svgRoot.addEventListener('pointerup', endDrag);
    this.svgRoot.addEventListener('pointercancel', endDrag);
    this.element.addEventListener('keydown', (ev) => this.onKey(ev));
    this.element.addEventListener('focusout', (ev) => {
      if (!this.element.contains(ev.relatedTarget as Node | null)) this.highlight(this.selected);
    });
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const onNode = nodeIdOf(ev.target);
    let handled = true;
    switch (ev.key) {
      case '+':
      case '=':
        this.zoomBy(1.25);
        break;
      case '-':
      case '_':
        this.zoomBy(0.8);
        break;
      case '0':
        this.fit();
        break;
      case 'Home':
        if (this.graph) this.focusNode(this.graph.focus ?? this.graph.nodes[0]?.id ?? '');
        break;
      case 'Escape':
        this.select(undefined);
        this.element.focus();
        break;
      case 'Enter':
        if (onNode) this.openNode(onNode);
        else if (this.current) this.focusNode(this.current);
        break;
      case ' ':
        if (onNode) this.select(this.selected === onNode ? undefined : onNode);
        else handled = false;
        break;
      case 'ArrowLeft':
      case 'ArrowRight':
      case 'ArrowUp':
      case 'ArrowDown':
        if (onNode && !ev.shiftKey) {
          const next = this.neighbourFor(onNode, ev.key);
          if (next) this.focusNode(next);
        } else {
          const step = { ArrowLeft: [KEY_PAN, 0], ArrowRight: [-KEY_PAN, 0], ArrowUp: [0, KEY_PAN], ArrowDown: [0, -KEY_PAN] }[ev.key]!;
          this.panBy(step[0]!, step[1]!);
        }
        break;
      default:
        handled = false;
    }
    if (handled) ev.preventDefault();
  }
}

/** The id of the node an event happened in, if any. */
function nodeIdOf(t: EventTarget | null): string | undefined {
  const g = t instanceof Element ? t.closest('g.node') : null;
  return g?.getAttribute('data-id') ?? undefined;
}
