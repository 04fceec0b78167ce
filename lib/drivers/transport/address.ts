/** Address of a host driven on the worker's own machine, without SSH. */
export const LOCAL_HOST = "local";
