// The REST API of the server extension (/aisci/api/). Jupyter's ServerConnection adds the token
// and the XSRF header, so every call goes through Jupyter's authentication.
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IPhase {
  name: string;
  state: 'done' | 'out of date' | 'not run' | 'running' | 'waiting' | 'failed';
  notebook: string;
  finished_at: string | null;
  duration_s: number | null;
  reason: string | null;
}

export interface IJob {
  running: boolean;
  pid?: number;
  until?: string | null;
  started_at?: string;
  ended_at?: string;
  outcome?: 'finished' | 'failed' | 'stopped' | 'waiting';
  message?: string | null;
  stop_requested_at?: string;
}

export interface IStudy {
  path: string;
  name: string;
  error?: string;
  topic: string;
  template: string;
  model: string;
  phases: IPhase[];
  running: boolean;
  job: IJob;
  waiting: string[];
  cost: {
    calls: number;
    tokens: number;
    cost_usd: number;
    offline_tasks: number;
    max_usd: number | null;
    max_tokens: number | null;
  };
  best: {
    id: string;
    idea: string;
    metric: string;
    value: number | null;
    notebook: string | null;
  } | null;
  paper: {
    pdf: string | null;
    final: boolean;
    open_problems: number;
    tex: string;
    state: string | null;
    current: boolean;
  } | null;
  review: { decision: string; overall: number } | null;
  final_decision: string | null;
  progress: {
    phase: string | null;
    phases_done: number;
    phases: number;
    node: string | null;
    node_started_at: string | null;
    queued: number;
    baseline_s: number | null;
    nodes_left: number | null;
    workers: number;
    estimate_s: number | null;
  } | null;
}

export interface INode {
  id: string;
  idea: string;
  kind: string;
  parent: string | null;
  status: string;
  metric: number | null;
  failure: string | null;
  notebook: string | null;
  edited: boolean;
}

export interface ITree {
  primary_metric: string | null;
  best: string | null;
  nodes: INode[];
}

export interface IGateItem {
  id: string;
  label: string;
  detail: string;
}

export interface IWaitingGate {
  gate: string;
  items: IGateItem[];
}

export interface IDecisions {
  decisions: { at: string; gate: string; action: string; items: string[]; by?: string; note?: string }[];
  waiting: IWaitingGate[];
}

export interface IModelNeeds {
  spec: string;
  provider: string;
  model: string;
  env: string | null;
  set: boolean;
}

// one line of a study's event log (aisci/events.py), tagged with its study
export interface IEvent {
  study: string;
  seq: number;
  at: string;
  kind: string;
  [field: string]: any;
}

export interface IEvents {
  events: IEvent[];
  cursor: { [study: string]: number };
}

export class ApiError extends Error {}

export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'aisci', 'api', path);
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    throw new ApiError(data.message || `${response.status} ${response.statusText}`);
  }
  return data as T;
}

export function post<T>(path: string, body: object): Promise<T> {
  return request<T>(path, { method: 'POST', body: JSON.stringify(body) });
}

// a study's path, each segment escaped, for the URL
export function studyUrl(study: string, what: string): string {
  const encoded = study
    .split('/')
    .map(part => encodeURIComponent(part))
    .join('/');
  return `studies/${encoded}/${what}`;
}
