// Why this file exists: `electron` is an optionalDependency. Where its binary
// download fails (offline CI, this build machine) npm drops the whole package,
// its type declarations included, and `tsc` would fail on every Electron import
// although the shell is still built and shipped. This declares the small part
// of Electron's API the shell and preload use, with the signatures of Electron
// 41's electron.d.ts (checked against it), so typecheck works either way.
//
// When the real package is installed its own declarations are found by module
// resolution first and this ambient module is not used.

declare module 'electron' {
  import type { EventEmitter } from 'node:events';

  interface ElectronEvent {
    preventDefault(): void;
  }

  interface WebFrameMain {
    readonly url: string;
    readonly parent: WebFrameMain | null;
  }

  interface WebContents extends EventEmitter {
    readonly mainFrame: WebFrameMain;
    send(channel: string, ...args: unknown[]): void;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'allow' | 'deny' }): void;
    on(event: 'will-navigate' | 'will-redirect', listener: (event: ElectronEvent, url: string) => void): this;
    on(event: 'will-attach-webview', listener: (event: ElectronEvent) => void): this;
  }

  interface IpcMainInvokeEvent extends ElectronEvent {
    readonly sender: WebContents;
    readonly senderFrame: WebFrameMain | null;
  }

  interface IpcRendererEvent extends ElectronEvent {
    readonly sender: unknown;
  }

  interface WebPreferences {
    preload?: string;
    contextIsolation?: boolean;
    sandbox?: boolean;
    nodeIntegration?: boolean;
    nodeIntegrationInWorker?: boolean;
    webSecurity?: boolean;
    allowRunningInsecureContent?: boolean;
    webviewTag?: boolean;
    spellcheck?: boolean;
  }

  interface BrowserWindowConstructorOptions {
    width?: number;
    height?: number;
    minWidth?: number;
    minHeight?: number;
    title?: string;
    backgroundColor?: string;
    show?: boolean;
    webPreferences?: WebPreferences;
  }

  class BrowserWindow extends EventEmitter {
    constructor(options?: BrowserWindowConstructorOptions);
    static getAllWindows(): BrowserWindow[];
    static fromWebContents(webContents: WebContents): BrowserWindow | null;
    readonly webContents: WebContents;
    loadURL(url: string): Promise<void>;
    show(): void;
    focus(): void;
    restore(): void;
    isMinimized(): boolean;
    isDestroyed(): boolean;
    once(event: 'ready-to-show', listener: () => void): this;
    on(event: 'closed', listener: () => void): this;
  }

  interface App extends EventEmitter {
    whenReady(): Promise<void>;
    quit(): void;
    exit(exitCode?: number): void;
    requestSingleInstanceLock(): boolean;
    on(event: 'web-contents-created', listener: (event: ElectronEvent, contents: WebContents) => void): this;
    on(event: 'will-quit', listener: (event: ElectronEvent) => void): this;
    on(event: 'second-instance' | 'activate' | 'window-all-closed', listener: () => void): this;
  }

  interface Privileges {
    standard?: boolean;
    secure?: boolean;
    bypassCSP?: boolean;
    allowServiceWorkers?: boolean;
    supportFetchAPI?: boolean;
    corsEnabled?: boolean;
    stream?: boolean;
    codeCache?: boolean;
  }

  interface Protocol {
    registerSchemesAsPrivileged(customSchemes: Array<{ scheme: string; privileges?: Privileges }>): void;
    handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
  }

  interface IpcMain {
    handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => unknown): void; // eslint-disable-line @typescript-eslint/no-explicit-any -- Electron's own signature: IPC arguments are whatever the renderer sent
    removeHandler(channel: string): void;
  }

  interface IpcRenderer {
    invoke(channel: string, ...args: unknown[]): Promise<unknown>;
    on(channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
    removeListener(channel: string, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
  }

  interface ContextBridge {
    exposeInMainWorld(apiKey: string, api: unknown): void;
  }

  interface WebUtils {
    getPathForFile(file: File): string;
  }

  interface Session {
    setPermissionRequestHandler(
      handler:
        ((webContents: WebContents, permission: string, callback: (granted: boolean) => void) => void) | null,
    ): void;
    setPermissionCheckHandler(handler: (() => boolean) | null): void;
  }

  interface Shell {
    openExternal(url: string): Promise<void>;
  }

  interface FileFilter {
    name: string;
    extensions: string[];
  }

  interface OpenDialogOptions {
    title?: string;
    properties?: Array<'openFile' | 'openDirectory' | 'multiSelections'>;
    filters?: FileFilter[];
  }

  interface Dialog {
    showOpenDialog(
      window: BrowserWindow,
      options: OpenDialogOptions,
    ): Promise<{ canceled: boolean; filePaths: string[] }>;
    showOpenDialog(options: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }>;
    showErrorBox(title: string, content: string): void;
  }

  interface MenuItemConstructorOptions {
    label?: string;
    accelerator?: string;
    role?: 'appMenu' | 'editMenu' | 'quit';
    type?: 'normal' | 'separator' | 'submenu';
    click?: () => void;
    submenu?: MenuItemConstructorOptions[];
  }

  class Menu {
    static buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
    static setApplicationMenu(menu: Menu | null): void;
  }

  const app: App;
  const protocol: Protocol;
  const ipcMain: IpcMain;
  const ipcRenderer: IpcRenderer;
  const contextBridge: ContextBridge;
  const webUtils: WebUtils;
  const session: { readonly defaultSession: Session };
  const shell: Shell;
  const dialog: Dialog;
}
