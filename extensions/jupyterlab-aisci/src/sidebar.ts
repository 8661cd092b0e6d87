// The studies sidebar: every study under the server root with its phases, cost, best node,
// paper and review; Run / Run until / Stop as server-side jobs; the gates waiting for a person;
// the experiment tree; the run's log. It follows the studies' event logs (a long poll on
// /aisci/api/events, fed by the runner's hooks and every decision) and reloads a study when it
// has news; a slow re-list catches studies changed by hand. Everything is read back from the
// server, so a reload or a closed tab loses nothing.
import { Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { Signal, ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { IDecisions, IEvent, IEvents, IStudy, ITree, post, request, studyUrl } from './api';
import { formatCost, formatNumber, h } from './dom';

export const PHASE_LABELS: { [name: string]: string } = {
  ideation: 'Ideas',
  novelty: 'Novelty',
  experiments: 'Experiments',
  analysis: 'Analysis',
  writeup: 'Paper',
  review: 'Review'
};

const FALLBACK_MS = 30000; // a study changed by hand leaves no event: re-list this often
const RETRY_MS = 5000; // the server went away: ask again after this long
const WAIT_S = 25; // how long one long poll waits for news
const LIVE_LINES = 4; // the latest events shown under a study

const sleep = (ms: number) => new Promise(resolve => window.setTimeout(resolve, ms));

export interface IOpener {
  open(path: string): void;
  newStudy(): void;
}

interface IDetails {
  tree?: ITree;
  decisions?: IDecisions;
  log: string;
  offset: number;
}

export class StudiesSidebar extends Widget {
  constructor(opener: IOpener) {
    super();
    this.opener = opener;
    this.id = 'aisci-studies';
    this.addClass('aisci-sidebar');
    this.title.caption = 'aisci studies';
    this.header = h(
      'div',
      { class: 'aisci-sidebar-header' },
      h('h2', {}, 'aisci studies'),
      h('button', { class: 'jp-Button aisci-new-study', title: 'Create a study', onclick: () => opener.newStudy() }, '+ New study'),
      h('button', { class: 'jp-Button aisci-refresh', title: 'Refresh now', onclick: () => void this.refresh() }, '⟳')
    );
    this.message = h('div', { class: 'aisci-sidebar-message' });
    this.list = h('div', { class: 'aisci-study-list' });
    this.node.append(this.header, this.message, this.list);
  }

  get studies(): IStudy[] {
    return this._studies;
  }

  get studiesChanged(): ISignal<this, IStudy[]> {
    return this._studiesChanged;
  }

  protected onAfterAttach(): void {
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), FALLBACK_MS);
    this.ticker = window.setInterval(() => this.tick(), 1000);
    void this.follow();
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this.timer);
    window.clearInterval(this.ticker);
  }

  dispose(): void {
    window.clearInterval(this.timer);
    window.clearInterval(this.ticker);
    super.dispose();
  }

  // --- following the event logs ---------------------------------------------------------------
  private async follow(): Promise<void> {
    if (this.following) {
      return;
    }
    this.following = true;
    let cursor: IEvents['cursor'] | null = null;
    try {
      while (this.isAttached && !this.isDisposed) {
        try {
          if (cursor === null) {
            cursor = (await request<IEvents>('events')).cursor;
            continue;
          }
          const query = `events?cursor=${encodeURIComponent(JSON.stringify(cursor))}&wait=${WAIT_S}`;
          const answer: IEvents = await request<IEvents>(query);
          cursor = answer.cursor;
          if (answer.events.length) {
            await this.onEvents(answer.events);
          }
        } catch {
          cursor = null; // what happened meanwhile is read by the re-list
          await sleep(RETRY_MS);
          await this.refresh();
        }
      }
    } finally {
      this.following = false;
    }
  }

  private async onEvents(events: IEvent[]): Promise<void> {
    const changed = new Set<string>();
    for (const event of events) {
      changed.add(event.study);
      const last = this.lastEvent.get(event.study);
      this.lastEvent.set(event.study, event);
      if (event.kind === 'job_end' && last?.kind === 'run_end' && last.outcome === event.outcome) {
        continue; // the job's end repeats its run's
      }
      const lines = this.live.get(event.study) ?? [];
      lines.push(describe(event));
      this.live.set(event.study, lines.slice(-LIVE_LINES));
    }
    if ([...changed].some(path => !this._studies.some(s => s.path === path))) {
      await this.refresh(); // a study the list did not have yet
      return;
    }
    await Promise.all(
      [...changed].map(async path => {
        try {
          const card = await request<IStudy>(studyUrl(path, 'status'));
          this._studies = this._studies.map(s => (s.path === path ? card : s));
          if (this.expanded.has(path)) {
            await this.loadDetails(card);
          }
        } catch {
          // removed meanwhile: the next re-list drops it
        }
      })
    );
    this.render();
    this._studiesChanged.emit(this._studies);
  }

  // the running node's clock, between events
  private tick(): void {
    this.list.querySelectorAll<HTMLElement>('.aisci-elapsed').forEach(span => {
      const since = Number(span.dataset.since);
      if (since) {
        span.textContent = `${Math.max(0, Math.round((Date.now() - since) / 1000))} s`;
      }
    });
  }

  // --- reading the server -------------------------------------------------------------------
  async refresh(): Promise<void> {
    if (this.busy) {
      return;
    }
    this.busy = true;
    try {
      const data = await request<{ root: string; studies: IStudy[] }>('studies');
      this._studies = data.studies;
      for (const study of data.studies) {
        if (this.expanded.has(study.path)) {
          await this.loadDetails(study);
        }
      }
      this.message.textContent = data.studies.length ? '' : 'No study under the server root yet: create one with + New study.';
      this.render();
      this._studiesChanged.emit(this._studies);
    } catch (error) {
      this.message.textContent = `Could not read the studies: ${(error as Error).message}`;
    } finally {
      this.busy = false;
    }
  }

  private async loadDetails(study: IStudy): Promise<void> {
    const details = this.details.get(study.path) ?? { log: '', offset: 0 };
    this.details.set(study.path, details);
    const [tree, decisions, log] = await Promise.all([
      request<ITree>(studyUrl(study.path, 'tree')),
      request<IDecisions>(studyUrl(study.path, 'decisions')),
      request<{ text: string; offset: number }>(studyUrl(study.path, `log?offset=${details.offset}`))
    ]);
    details.tree = tree;
    details.decisions = decisions;
    if (log.offset < details.offset) {
      details.log = log.text; // a new run started a new log
    } else {
      details.log += log.text;
    }
    details.offset = log.offset;
  }

  // --- acting ---------------------------------------------------------------------------------
  private async act(what: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await what();
      Notification.success(done, { autoClose: 4000 });
    } catch (error) {
      Notification.error((error as Error).message, { autoClose: 8000 });
    }
    await this.refresh();
  }

  private run(study: IStudy, until: string | null): Promise<void> {
    const details = this.details.get(study.path);
    if (details) {
      details.log = '';
      details.offset = 0;
    }
    return this.act(
      () => post(studyUrl(study.path, 'run'), { until }),
      `${study.name}: run started${until ? ` (until ${PHASE_LABELS[until]})` : ''}`
    );
  }

  private stop(study: IStudy): Promise<void> {
    return this.act(() => post(studyUrl(study.path, 'stop'), {}), `${study.name}: run stopped; Run resumes it`);
  }

  private decide(study: IStudy, gate: string, verdict: string, item: string): Promise<void> {
    const note = this.reasons.get(`${study.path}:${gate}`) ?? '';
    return this.act(
      () => post(studyUrl(study.path, 'decisions'), { gate, verdict, items: [item], note }),
      `${study.name}: ${verdict === 'approve' ? 'approved' : 'rejected'} ${item} at the ${gate} gate`
    );
  }

  // --- drawing ----------------------------------------------------------------------------------
  private render(): void {
    const active = document.activeElement;
    if (active && this.node.contains(active) && ['INPUT', 'TEXTAREA', 'SELECT'].includes(active.tagName)) {
      return; // never redraw under someone typing; the next poll draws
    }
    const scrolls = new Map<string, number>();
    this.list.querySelectorAll<HTMLElement>('.aisci-log').forEach(pre => scrolls.set(pre.dataset.study ?? '', pre.scrollTop));
    this.list.replaceChildren(...this._studies.map(study => this.card(study)));
    this.list.querySelectorAll<HTMLElement>('.aisci-log').forEach(pre => {
      pre.scrollTop = scrolls.has(pre.dataset.study ?? '') && !this.followLog ? scrolls.get(pre.dataset.study ?? '')! : pre.scrollHeight;
    });
  }

  private card(study: IStudy): HTMLElement {
    if (study.error) {
      return h('div', { class: 'aisci-study aisci-mod-broken', 'data-study': study.path }, h('div', { class: 'aisci-study-name' }, study.path), h('div', { class: 'aisci-error' }, study.error));
    }
    const open = this.expanded.has(study.path);
    const header = h(
      'div',
      {
        class: 'aisci-study-header',
        title: open ? 'Hide the tree and the log' : 'Show the tree, the gates and the log',
        onclick: () => {
          if (open) {
            this.expanded.delete(study.path);
            this.render();
          } else {
            this.expanded.add(study.path);
            void this.refresh();
          }
        }
      },
      h('span', { class: 'aisci-caret' }, open ? '▾' : '▸'),
      h('span', { class: 'aisci-study-name' }, study.path),
      study.running ? h('span', { class: 'aisci-badge aisci-mod-running' }, 'running') : null,
      study.waiting.length && !study.running ? h('span', { class: 'aisci-badge aisci-mod-waiting' }, 'waits for you') : null
    );
    const details = this.details.get(study.path);
    return h(
      'div',
      { class: `aisci-study${open ? ' aisci-mod-open' : ''}`, 'data-study': study.path },
      header,
      h('div', { class: 'aisci-topic' }, study.topic),
      this.stepper(study),
      this.facts(study),
      this.controls(study),
      this.progress(study, details),
      open && details?.decisions ? this.gates(study, details.decisions) : null,
      open && details?.tree ? this.tree(study, details.tree) : null,
      open && details ? this.logView(study, details) : null
    );
  }

  private stepper(study: IStudy): HTMLElement {
    return h(
      'ol',
      { class: 'aisci-stepper' },
      study.phases.map(phase =>
        h(
          'li',
          {
            class: 'aisci-phase',
            'data-phase': phase.name,
            'data-state': phase.state,
            title: `${PHASE_LABELS[phase.name]}: ${phase.state}${phase.reason ? ` — ${phase.reason}` : ''}. Click to open ${phase.notebook}`,
            onclick: () => this.opener.open(PathExt.join(study.path, phase.notebook))
          },
          h('span', { class: 'aisci-phase-dot' }),
          h('span', { class: 'aisci-phase-name' }, PHASE_LABELS[phase.name]),
          h('span', { class: 'aisci-phase-state' }, phase.state),
          phase.reason && phase.state === 'failed' ? h('span', { class: 'aisci-phase-reason' }, phase.reason) : null
        )
      )
    );
  }

  private facts(study: IStudy): HTMLElement {
    const cost = study.cost;
    const budget = [
      cost.max_tokens !== null ? `of ${cost.max_tokens.toLocaleString()} tokens` : '',
      cost.max_usd !== null ? `of ${formatCost(cost.max_usd)}` : ''
    ]
      .filter(Boolean)
      .join(', ');
    const rows: (HTMLElement | null)[] = [
      h('div', { class: 'aisci-fact aisci-cost' }, `${cost.tokens.toLocaleString()} tokens · ${formatCost(cost.cost_usd)}`, budget ? ` ${budget}` : ' (no budget set)', ` · model ${study.model}`),
      study.best
        ? h(
            'div',
            { class: 'aisci-fact aisci-best' },
            'Best node ',
            h('a', { href: '#', onclick: (e: Event) => { e.preventDefault(); if (study.best?.notebook) { this.opener.open(PathExt.join(study.path, study.best.notebook)); } } }, study.best.id),
            `: ${study.best.metric} = ${formatNumber(study.best.value)}`
          )
        : null,
      study.paper ? this.paperFact(study) : null,
      study.review
        ? h('div', { class: 'aisci-fact aisci-review' }, `Review: ${study.review.decision} (Overall ${study.review.overall})`, study.final_decision ? ` · your decision: ${study.final_decision}` : '')
        : null
    ];
    return h('div', { class: 'aisci-facts' }, rows);
  }

  // which PDF matches the sections as they are now: the final paper.pdf, or the marked draft while
  // integrity problems are open (aisci/studies.py `paper`)
  private paperFact(study: IStudy): HTMLElement {
    const paper = study.paper!;
    const problems = `${paper.open_problems} integrity problem${paper.open_problems === 1 ? '' : 's'} open`;
    const open = (path: string) => (e: Event) => {
      e.preventDefault();
      this.opener.open(PathExt.join(study.path, path));
    };
    const stale = paper.current ? null : h('div', { class: 'aisci-paper-stale' }, 'built before the sections were last edited: run `aisci paper` (or the paper panel) to check and build it again');
    if (!paper.pdf) {
      return h('div', { class: 'aisci-fact aisci-paper', 'data-pdf': 'none' }, `Paper: no PDF · ${problems} · `, h('a', { href: '#', onclick: open(paper.tex) }, 'main.tex'), stale);
    }
    const file = PathExt.basename(paper.pdf);
    return h(
      'div',
      { class: 'aisci-fact aisci-paper', 'data-pdf': paper.final ? 'final' : 'draft', title: paper.state ?? '' },
      'Paper: ',
      h('span', { class: `aisci-badge aisci-mod-${paper.final ? 'final' : 'draft'}` }, paper.final ? 'final' : 'draft'),
      paper.final ? ' no integrity problem open · ' : ` ${problems} · `,
      h('a', { href: '#', class: 'aisci-open-pdf', onclick: open(paper.pdf) }, `open ${file}`),
      stale
    );
  }

  private controls(study: IStudy): HTMLElement {
    const select = h(
      'select',
      { class: 'aisci-until', title: 'Run until this phase' },
      study.phases.map(phase => h('option', { value: phase.name }, PHASE_LABELS[phase.name]))
    ) as HTMLSelectElement;
    select.value = this.untils.get(study.path) ?? 'review';
    select.addEventListener('change', () => this.untils.set(study.path, select.value));
    return h(
      'div',
      { class: 'aisci-controls' },
      h('button', { class: 'jp-Button jp-mod-styled jp-mod-accept aisci-run', disabled: study.running, onclick: () => void this.run(study, null) }, 'Run'),
      h('button', { class: 'jp-Button jp-mod-styled aisci-run-until', disabled: study.running, onclick: () => void this.run(study, select.value) }, 'Run until'),
      select,
      h('button', { class: 'jp-Button jp-mod-styled jp-mod-warn aisci-stop', disabled: !study.running, onclick: () => void this.stop(study) }, 'Stop')
    );
  }

  private progress(study: IStudy, details: IDetails | undefined): HTMLElement | null {
    const job = study.job;
    if (study.running) {
      const progress = study.progress;
      const lines: string[] = [];
      if (progress) {
        const phase = progress.phase ? PHASE_LABELS[progress.phase] : 'starting';
        lines.push(`Running ${phase} (phase ${Math.min(progress.phases_done + 1, progress.phases)} of ${progress.phases})`);
        if (progress.estimate_s !== null && progress.baseline_s !== null) {
          const workers = `${progress.workers} worker${progress.workers === 1 ? '' : 's'}`;
          lines.push(`about ${progress.nodes_left} nodes left, ~${formatDuration(progress.estimate_s)} (the baseline took ${Math.round(progress.baseline_s)} s per node; ${workers})`);
        } else if (progress.nodes_left) {
          lines.push(`about ${progress.nodes_left} nodes left (a time once the baseline has run)`);
        }
      } else {
        lines.push('Running');
      }
      if (job.started_at) {
        lines.push(`started ${new Date(job.started_at).toLocaleTimeString()}`);
      }
      const node = progress?.node
        ? h(
            'div',
            { class: 'aisci-progress-node' },
            `node ${progress.node} for `,
            h('span', { class: 'aisci-elapsed', 'data-since': progress.node_started_at ? String(new Date(progress.node_started_at).getTime()) : '' }, '…'),
            progress.queued ? `, ${progress.queued} more queued` : ''
          )
        : null;
      return h('div', { class: 'aisci-progress aisci-mod-running' }, lines.slice(0, 1).map(line => h('div', {}, line)), node, lines.slice(1).map(line => h('div', {}, line)), this.liveLines(study));
    }
    if (job.outcome) {
      const text: { [k: string]: string } = {
        finished: 'The last run finished.',
        stopped: 'The last run was stopped: Run resumes it.',
        waiting: 'The last run stopped at a gate that waits for your decision.',
        failed: `The last run failed: ${job.message ?? ''}`
      };
      return h('div', { class: `aisci-progress aisci-mod-${job.outcome}` }, text[job.outcome], this.liveLines(study));
    }
    return this.live.has(study.path) ? h('div', { class: 'aisci-progress' }, this.liveLines(study)) : null;
  }

  private liveLines(study: IStudy): HTMLElement | null {
    const lines = this.live.get(study.path);
    return lines?.length ? h('ul', { class: 'aisci-live', title: 'The latest events of this study' }, lines.map(line => h('li', {}, line))) : null;
  }

  private gates(study: IStudy, decisions: IDecisions): HTMLElement | null {
    if (!decisions.waiting.length) {
      return null;
    }
    return h(
      'div',
      { class: 'aisci-gates' },
      decisions.waiting.map(gate => {
        const key = `${study.path}:${gate.gate}`;
        const reason = h('textarea', { class: 'aisci-reason', rows: '2', placeholder: 'Your reason (kept with the decision)' }) as HTMLTextAreaElement;
        reason.value = this.reasons.get(key) ?? '';
        reason.addEventListener('input', () => this.reasons.set(key, reason.value));
        return h(
          'div',
          { class: 'aisci-gate', 'data-gate': gate.gate },
          h('h3', {}, `The ${gate.gate} gate waits for you`),
          gate.items.map(item =>
            h(
              'div',
              { class: 'aisci-gate-item', 'data-item': item.id },
              h('div', { class: 'aisci-gate-label' }, item.label),
              h('div', { class: 'aisci-gate-detail' }, item.detail),
              h(
                'div',
                { class: 'aisci-gate-buttons' },
                h('button', { class: 'jp-Button jp-mod-styled jp-mod-accept aisci-approve', onclick: () => void this.decide(study, gate.gate, 'approve', item.id) }, 'Approve'),
                h('button', { class: 'jp-Button jp-mod-styled jp-mod-reject aisci-reject', onclick: () => void this.decide(study, gate.gate, 'reject', item.id) }, 'Reject')
              )
            )
          ),
          reason
        );
      })
    );
  }

  private tree(study: IStudy, tree: ITree): HTMLElement | null {
    if (!tree.nodes.length) {
      return null;
    }
    const children = new Map<string | null, typeof tree.nodes>();
    const ids = new Set(tree.nodes.map(n => n.id));
    for (const node of tree.nodes) {
      const parent = node.parent && ids.has(node.parent) ? node.parent : null;
      children.set(parent, [...(children.get(parent) ?? []), node]);
    }
    const rows: HTMLElement[] = [];
    const walk = (parent: string | null, depth: number) => {
      for (const node of children.get(parent) ?? []) {
        const best = node.id === tree.best;
        rows.push(
          h(
            'li',
            {
              class: `aisci-node${best ? ' aisci-mod-best' : ''}`,
              'data-node': node.id,
              'data-status': node.status,
              style: `padding-left: ${depth * 12}px`,
              title: node.failure ? `${node.status}: ${node.failure}` : `${node.kind} · ${node.status}`,
              onclick: () => node.notebook && this.opener.open(PathExt.join(study.path, node.notebook))
            },
            h('span', { class: 'aisci-node-id' }, node.id),
            h('span', { class: 'aisci-node-kind' }, node.kind),
            h('span', { class: 'aisci-node-status' }, node.status),
            h('span', { class: 'aisci-node-metric' }, formatNumber(node.metric)),
            best ? h('span', { class: 'aisci-badge aisci-mod-best' }, '★ best') : null,
            node.edited ? h('div', { class: 'aisci-node-edited' }, 'edited: becomes a human node on the next run') : null,
            node.failure ? h('div', { class: 'aisci-node-failure' }, node.failure) : null
          )
        );
        walk(node.id, depth + 1);
      }
    };
    walk(null, 0);
    return h('div', { class: 'aisci-tree' }, h('h3', {}, `Experiment tree (${tree.primary_metric ?? 'metric'})`), h('ul', {}, rows));
  }

  private logView(study: IStudy, details: IDetails): HTMLElement {
    const pre = h('pre', { class: 'aisci-log', 'data-study': study.path }, details.log || '(no run log yet)');
    pre.addEventListener('scroll', () => {
      this.followLog = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    });
    return h('div', { class: 'aisci-log-box' }, h('h3', {}, 'Run log'), pre);
  }

  private opener: IOpener;
  private header: HTMLElement;
  private message: HTMLElement;
  private list: HTMLElement;
  private timer = 0;
  private ticker = 0;
  private following = false;
  private live = new Map<string, string[]>();
  private lastEvent = new Map<string, IEvent>();
  private busy = false;
  private followLog = true;
  private _studies: IStudy[] = [];
  private _studiesChanged = new Signal<this, IStudy[]>(this);
  private expanded = new Set<string>();
  private details = new Map<string, IDetails>();
  private reasons = new Map<string, string>();
  private untils = new Map<string, string>();
}

// one event as a line of the study's activity
export function describe(event: IEvent): string {
  const time = new Date(event.at).toLocaleTimeString();
  const phase = PHASE_LABELS[event.phase] ?? event.phase;
  let text: string;
  switch (event.kind) {
    case 'run_start':
      text = 'run started';
      break;
    case 'run_end':
    case 'job_end':
      text = `run ${event.outcome}${event.message ? `: ${event.message}` : ''}`;
      break;
    case 'phase_start':
      text = event.up_to_date ? `${phase}: up to date` : `${phase} started`;
      break;
    case 'phase_end':
      text = event.ran ? `${phase} done in ${Math.round(event.duration_s)} s` : `${phase} skipped`;
      break;
    case 'phase_error':
      text = `${phase} failed: ${event.error}`;
      break;
    case 'node_start':
      text = `node ${event.node} (${event.node_kind}) started`;
      break;
    case 'node_end': {
      const metrics = Object.entries(event.metrics ?? {})
        .slice(0, 2)
        .map(([k, v]) => `${k} = ${formatNumber(v as number)}`)
        .join(', ');
      text = `node ${event.node} ${event.status}${metrics ? `: ${metrics}` : event.failure ? `: ${event.failure}` : ''}`;
      break;
    }
    case 'gate':
      text = `the ${event.gate} gate waits for you`;
      break;
    case 'decision':
      text = `${event.action} ${(event.items ?? []).join(', ')} at the ${event.gate} gate (${event.by ?? 'someone'})`;
      break;
    case 'message':
      text = event.text;
      break;
    default:
      text = event.kind;
  }
  return `${time} ${text}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 5400) {
    return `${Math.round(seconds / 60)} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}
