// Vite resolves `?url` imports to the asset's URL in the build (v86's wasm is loaded by URL).
declare module 'v86/build/v86.wasm?url' {
  const url: string;
  export default url;
}
