{"installed":true,"maintenance":false,"needsDbUpgrade":false,"version":"31.0.9.0","versionstring":"31.0.9","edition":"","productname":"Nextcloud (contract stand-in)","extendedSupport":false}
