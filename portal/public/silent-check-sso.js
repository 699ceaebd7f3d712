// keycloak-js loads this page in a hidden frame and waits for its address.
parent.postMessage(location.href, location.origin)
